import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { DAILY_DIR, requireCorpus } from '../support/corpus.js';
import { pageBatch } from '../support/load-order-scenarios.js';

/**
 * The analytics views on real data: the last 400 days of the daily corpus (real /coins/markets
 * responses) loaded through the real transform and load path, and v_daily_indicators and
 * v_market_dominance checked, row by row, against figures this test computes from the raw JSON
 * on its own. "Today" is pinned to the corpus' last day with a temporary reporting_date() macro,
 * which the twin's views resolve before the stored one (see duckdb-views.ts).
 */
requireCorpus();
const LAST_DAY = '2026-04-30';
const READ_FROM = '2025-03-26'; // LAST_DAY - 400 days: what v_daily_indicators reads
const SHOW_FROM = '2025-04-30'; // LAST_DAY - 365 days: what it returns

interface CorpusRecord {
  id: string;
  current_price: number | null;
  market_cap: number | null;
}
interface Slot {
  slot: Date;
  records: CorpusRecord[];
}

/** Slot of a file: the time in its name, to the minute (one file per slot). */
function slotOf(file: string): Date {
  const m = /(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-\d{2}\.json$/.exec(file)!;
  return new Date(`${m[1]}T${m[2]}:${m[3]}:00Z`);
}

const SLOTS: Slot[] = readdirSync(DAILY_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, slot: slotOf(file) }))
  .filter(({ slot }) => slot.toISOString().slice(0, 10) >= READ_FROM)
  .map(({ file, slot }) => ({ slot, records: JSON.parse(readFileSync(join(DAILY_DIR, file), 'utf8')) }))
  .filter((s): s is Slot => Array.isArray(s.records));

let w: DuckDbWarehouse;
beforeAll(async () => {
  w = await DuckDbWarehouse.open(':memory:');
  for (const { slot, records } of SLOTS) {
    await w.loadBatch(pageBatch(slot, records));
  }
  await w.query(`create temp macro reporting_date() as date '${LAST_DAY}'`);
}, 300_000);
afterAll(() => w.close());

/** Daily closes per coin from the raw JSON: the price in the day's last slot that has one. */
function dailyCloses(): Map<string, { day: string; close: number }[]> {
  const byCoin = new Map<string, Map<string, { at: number; close: number }>>();
  for (const { slot, records } of SLOTS) {
    for (const r of records) {
      if (r.current_price === null || r.current_price === undefined) continue;
      const days = byCoin.get(r.id) ?? new Map<string, { at: number; close: number }>();
      byCoin.set(r.id, days);
      const day = slot.toISOString().slice(0, 10);
      const seen = days.get(day);
      if (!seen || seen.at < slot.getTime()) days.set(day, { at: slot.getTime(), close: r.current_price });
    }
  }
  return new Map(
    [...byCoin].map(([coin, days]) => [
      coin,
      [...days].sort(([a], [b]) => a.localeCompare(b)).map(([day, v]) => ({ day, close: v.close })),
    ]),
  );
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
function sampleStd(values: number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}
const relClose = (a: number | null, b: number | null) =>
  a === null || b === null ? a === b : Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

describe('the daily corpus through the analytics views', () => {
  it('loads the last 400 days of real responses', async () => {
    expect(SLOTS.length).toBeGreaterThan(390);
    const [row] = await w.query('select count(*) as n from fact_market_snapshot');
    expect(row!.n).toBe(SLOTS.reduce((n, s) => n + s.records.length, 0));
  });

  it('v_daily_indicators: close, sma_7d, sma_30d and volatility_30d of every coin and day, as computed here', async () => {
    const expected = new Map<string, { close: number; sma7: number; sma30: number; vol: number | null }>();
    for (const [coin, closes] of dailyCloses()) {
      closes.forEach(({ day, close }, i) => {
        if (day < SHOW_FROM) return;
        const window = (n: number) => closes.slice(Math.max(0, i - n + 1), i + 1);
        const returns = window(30).flatMap((c, k, all) => {
          const at = i - all.length + 1 + k; // index of c in closes
          if (at === 0) return [];
          const previous = closes[at - 1]!.close;
          return c.close > 0 && previous > 0 ? [Math.log(c.close / previous)] : [];
        });
        expected.set(`${coin} ${day}`, {
          close,
          sma7: mean(window(7).map((c) => c.close)),
          sma30: mean(window(30).map((c) => c.close)),
          vol: sampleStd(returns),
        });
      });
    }
    const rows = await w.query(
      `select coin_id, cast(snapshot_date as varchar) as day, close_price, sma_7d, sma_30d, volatility_30d
       from v_daily_indicators`,
    );
    expect(rows.length).toBe(expected.size);
    const wrong = rows.filter((r) => {
      const e = expected.get(`${String(r.coin_id)} ${String(r.day)}`);
      return (
        !e ||
        !relClose(r.close_price as number, e.close) ||
        !relClose(r.sma_7d as number, e.sma7) ||
        !relClose(r.sma_30d as number, e.sma30) ||
        !relClose(r.volatility_30d as number | null, e.vol)
      );
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    // Bitcoin's volatility on real data is a few percent a day, not 0 and not 100 %.
    const [btc] = await w.query(
      `select volatility_30d from v_daily_indicators where coin_id = 'bitcoin' and snapshot_date = date '${LAST_DAY}'`,
    );
    expect(btc!.volatility_30d as number).toBeGreaterThan(0.005);
    expect(btc!.volatility_30d as number).toBeLessThan(0.1);
  });

  it("v_market_dominance: every coin's share of its slot's total market cap, as computed here", async () => {
    const expected = new Map<string, number | null>();
    for (const { slot, records } of SLOTS) {
      const total = records.reduce((n, r) => n + (r.market_cap ?? 0), 0);
      for (const r of records)
        expected.set(
          `${r.id} ${slot.toISOString()}`,
          r.market_cap === null ? null : (100 * r.market_cap) / total,
        );
    }
    const rows = await w.query(`select coin_id, slot_ts, dominance_pct from v_market_dominance`);
    expect(rows.length).toBe(expected.size);
    const wrong = rows.filter((r) => {
      const key = `${String(r.coin_id)} ${(r.slot_ts as Date).toISOString()}`;
      return !expected.has(key) || !relClose(r.dominance_pct as number | null, expected.get(key)!);
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    const [sums] = await w.query(`select min(s) as lo, max(s) as hi from (
      select sum(dominance_pct) as s from v_market_dominance group by slot_ts)`);
    expect(sums!.lo as number).toBeCloseTo(100, 9);
    expect(sums!.hi as number).toBeCloseTo(100, 9);
  });

  it('v_top_movers and v_latest_snapshot read the newest corpus slot', async () => {
    const newest = SLOTS.at(-1)!;
    const movers = await w.query(`select direction, mover_rank, coin_id, price_change_percentage_24h, slot_ts
      from v_top_movers order by direction, mover_rank`);
    expect(movers).toHaveLength(20);
    expect(new Set(movers.map((m) => (m.slot_ts as Date).toISOString()))).toEqual(
      new Set([newest.slot.toISOString()]),
    );
    const gainers = movers
      .filter((m) => m.direction === 'gainer')
      .map((m) => m.price_change_percentage_24h as number);
    expect(gainers).toEqual([...gainers].sort((a, b) => b - a));
    const [latest] = await w.query(`select count(*) as n from v_latest_snapshot`);
    expect(latest!.n).toBeGreaterThanOrEqual(100);
  });
});
