import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import {
  daysAgo,
  loadSlot,
  trailingMean,
  volatility30,
  type FixtureCoin,
} from '../support/analytics-fixture.js';

/**
 * The twin's analytics views against figures computed by hand from a small fixture loaded through
 * the real load path: moving averages, volatility, dominance, movers, and the views' time bounds.
 */
let w: DuckDbWarehouse;
const DAYS = 40;
// alpha: a close every day; beta: misses day index 10 (the windows count days with a close).
const alphaClose = (d: number) => 100 + 2 * d + (d % 3) * 5;
const betaClose = (d: number) => 50 - 0.5 * d + (d % 4);
const dayIndexes = Array.from({ length: DAYS }, (_, d) => d);

beforeAll(async () => {
  w = await DuckDbWarehouse.open(':memory:');
  for (const d of dayIndexes) {
    const ago = DAYS - 1 - d; // d = 39 is today
    // Morning slot: a different price, so the close must be the day's last slot, not any slot.
    const morning: FixtureCoin[] = [{ id: 'alpha', current_price: 1, market_cap: 1 }];
    const evening: FixtureCoin[] = [
      { id: 'alpha', current_price: alphaClose(d), market_cap: 3e9, price_change_percentage_24h: 5 },
      { id: 'gamma', current_price: 2, market_cap: null, price_change_percentage_24h: 0 },
    ];
    if (d !== 10)
      evening.push({
        id: 'beta',
        current_price: betaClose(d),
        market_cap: 1e9,
        price_change_percentage_24h: -3,
      });
    await loadSlot(w, daysAgo(ago, 1), morning);
    await loadSlot(w, daysAgo(ago, 12), evening);
  }
  // Old history the bounded views must not see: 401 days ago, and an asset last seen 8 days ago.
  await loadSlot(w, daysAgo(401, 12), [{ id: 'ancient', current_price: 7, market_cap: 7 }]);
  await loadSlot(w, daysAgo(8, 18), [{ id: 'stale', current_price: 9, market_cap: 9 }]);
});
afterAll(() => w.close());

const rows = (sql: string) => w.query(sql);
const near = (actual: unknown, expected: number | null) => {
  if (expected === null) expect(actual).toBeNull();
  else expect(actual as number).toBeCloseTo(expected, 9);
};

describe('v_daily_indicators', () => {
  test.each(['alpha', 'beta'])('%s: close, sma_7d, sma_30d and volatility_30d by hand', async (coin) => {
    const days = coin === 'alpha' ? dayIndexes : dayIndexes.filter((d) => d !== 10);
    const closes = days.map(coin === 'alpha' ? alphaClose : betaClose);
    const got = await rows(
      `select * from v_daily_indicators where coin_id = '${coin}' order by snapshot_date`,
    );
    expect(got).toHaveLength(closes.length);
    got.forEach((row, i) => {
      near(row.close_price, closes[i]!);
      near(row.sma_7d, trailingMean(closes, i, 7));
      near(row.sma_30d, trailingMean(closes, i, 30));
      near(row.volatility_30d, volatility30(closes, i));
    });
    // Spot check one figure fully by hand: alpha's first 7-day mean.
    if (coin === 'alpha') near(got[6]!.sma_7d, (100 + 107 + 114 + 106 + 113 + 120 + 112) / 7);
  });

  test('ignores what lies beyond its bound (400 days read, 365 shown)', async () => {
    const [old] = await rows(
      `select count(*) as n, min(snapshot_date) as first from v_daily_indicators where coin_id = 'ancient'`,
    );
    expect(old!.n).toBe(0);
  });
});

describe('v_market_dominance', () => {
  test("shares of the slot's total market cap, in percent; no market cap, no share", async () => {
    const got = await rows(`select coin_id, dominance_pct from v_market_dominance
      where slot_ts = (select max(slot_ts) from fact_market_snapshot) order by coin_id`);
    expect(got.map((r) => r.coin_id)).toEqual(['alpha', 'beta', 'gamma']);
    near(got[0]!.dominance_pct, 75);
    near(got[1]!.dominance_pct, 25);
    near(got[2]!.dominance_pct, null);
  });

  test('on the day beta is missing, alpha holds the whole slot', async () => {
    const got = await rows(`select dominance_pct from v_market_dominance
      where coin_id = 'alpha' and snapshot_date = current_date - ${DAYS - 1 - 10} and hour(slot_ts) = 12`);
    near(got[0]!.dominance_pct, 100);
  });
});

describe('v_top_movers', () => {
  test('the newest slot only: gainers and losers ranked, unmoved assets left out', async () => {
    const got = await rows(
      `select direction, mover_rank, coin_id, price_change_percentage_24h, slot_ts from v_top_movers order by direction, mover_rank`,
    );
    expect(got.map((r) => [r.direction, r.mover_rank, r.coin_id])).toEqual([
      ['gainer', 1, 'alpha'],
      ['loser', 1, 'beta'],
    ]);
    expect((got[0]!.slot_ts as Date).toISOString()).toBe(daysAgo(0, 12).toISOString());
  });
});

describe('time bounds shared with BigQuery', () => {
  test('v_latest_snapshot shows only assets seen in the last 7 days', async () => {
    const got = await rows(`select coin_id, current_price from v_latest_snapshot order by coin_id`);
    expect(got.map((r) => r.coin_id)).toEqual(['alpha', 'beta', 'gamma']);
    near(got[0]!.current_price, alphaClose(DAYS - 1));
  });

  test('v_daily_ohlc: open is the first slot of the day, close the last', async () => {
    const [today] = await rows(
      `select open_price, high_price, low_price, close_price from v_daily_ohlc where coin_id = 'alpha' and snapshot_date = current_date`,
    );
    expect(today).toEqual({
      open_price: 1,
      high_price: alphaClose(DAYS - 1),
      low_price: 1,
      close_price: alphaClose(DAYS - 1),
    });
  });

  test('v_freshness counts whole minutes since the newest loaded slot', async () => {
    const [f] = await rows(`select newest_slot_ts, minutes_since_newest_slot, runs_loaded from v_freshness`);
    // Whole minutes, truncated (the newest slot may lie ahead of the clock before noon UTC).
    const expected = Math.trunc((Date.now() - daysAgo(0, 12).getTime()) / 60_000);
    expect(Math.abs((f!.minutes_since_newest_slot as number) - expected)).toBeLessThanOrEqual(1);
    expect(f!.runs_loaded).toBe(2 * DAYS + 2);
  });
});
