import { rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RAW_PREFIX } from '../../functions/src/core/replay-event.js';
import { PipelineError } from '../../functions/src/core/errors.js';
import { systemClock } from '../../functions/src/core/ports.js';
import { floorToSlot } from '../../functions/src/core/run-identity.js';
import { planBackfill, type HistoryChunk } from '../../functions/src/history/chunk-plan.js';
import type { HistorySource } from '../../functions/src/history/history-source.js';
import { runBackfill } from '../../twin/src/backfill/run-backfill.js';
import { createMarketSimulator } from '../../twin/src/market/market-simulator.js';
import { replayLake, type ReplaySummary } from '../../twin/src/replay/replay-lake.js';
import { twinDelivery } from '../../twin/src/replay/twin-delivery.js';
import { twinPaths } from '../../twin/src/twin-paths.js';
import { openHarness, type Harness } from '../support/twin-harness.js';

/**
 * Acceptance of "rebuild from the lake" (issue 11): run the pipeline for several slots, keep the
 * warehouse's contents, delete the warehouse file, replay the lake: every table is equal again
 * (load timestamps aside), the backfilled history too; replay again: nothing doubles.
 */

/** Columns that say when a load happened, not what it loaded: they differ on a rebuild by design. */
const LOAD_TIME_COLUMNS: Record<string, string[]> = {
  fact_market_snapshot: ['loaded_at'],
  dim_asset: ['loaded_at'],
  dim_date: [],
  ops_run: ['load_started_at', 'load_finished_at', 'updated_at'],
  ops_rejected_record: ['rejected_at'],
  ops_quality_check: ['checked_at'],
  fact_price_history: ['loaded_at'],
  ops_backfill_chunk: ['updated_at'],
};

const DAY_MS = 86_400_000;

/**
 * The harness's market, whose first answer for each coin in `failing` is an outage: a chunk then
 * has a failed fetch's record in the lake (and, once fetched again, its answer too).
 */
function flakyHistory(source: HistorySource, failing: Set<string>): HistorySource {
  return {
    description: source.description,
    fetchMarketChartRange(request) {
      if (failing.delete(request.coinId))
        return Promise.reject(
          new PipelineError('extract', 'simulated outage', { code: 'http_503', retryable: true }),
        );
      return source.fetchMarketChartRange(request);
    },
  };
}

/** A simulated rename of a coin in the top 120 (the harness's COIN_LIMIT): type 2 history to rebuild. */
function renameInTop120(): { id: string; at: Date } {
  const sim = createMarketSimulator();
  const rename = sim.renames.find(
    (r) =>
      r.at.getTime() > Date.parse('2026-01-01') &&
      sim
        .marketAt(new Date(r.at.getTime() - 3_600_000))
        .slice(0, 120)
        .some((c) => c.id === r.id),
  );
  if (!rename) throw new Error('the simulator has no rename in the top 120 after 2026-01-01');
  return rename;
}

async function dump(h: Harness): Promise<Record<string, unknown[]>> {
  const tables: Record<string, unknown[]> = {};
  for (const [table, skip] of Object.entries(LOAD_TIME_COLUMNS)) {
    const columns = skip.length > 0 ? `* exclude (${skip.join(', ')})` : '*';
    const rows = await h.twin.warehouse.query(`select ${columns} from ${table} order by all`);
    tables[table] = rows;
  }
  return tables;
}

let h: Harness;
let slots: Date[];
let original: Record<string, unknown[]>;
let renamedCoin: string;
let chunks: HistoryChunk[];

beforeAll(async () => {
  h = await openHarness();
  const rename = renameInTop120();
  renamedCoin = rename.id;
  const before = floorToSlot(new Date(rename.at.getTime() - 15 * 60_000), 15);
  // Two slots before the rename, one after, and one on the next day (a second dt= partition).
  slots = [
    new Date(before.getTime() - 15 * 60_000),
    before,
    new Date(before.getTime() + 30 * 60_000),
    new Date(before.getTime() + 24 * 3_600_000),
  ];
  for (const slot of slots) {
    h.market.simulator!.setTime(slot);
    await h.twin.extract(slot);
    await h.twin.settle();
  }
  // Failures are part of the history too: a slot whose only attempt failed (ops_run: failed), and
  // one that failed, then loaded on a second attempt (ops_run: loaded).
  const failing = new Date(slots[3]!.getTime() + 15 * 60_000);
  const healed = new Date(slots[3]!.getTime() + 30 * 60_000);
  for (const slot of [failing, healed]) {
    h.market.simulator!.setTime(slot);
    h.market.simulator!.setFaults({ malformedEveryNth: 1 });
    await expect(h.twin.extract(slot)).rejects.toThrow();
    h.market.simulator!.setFaults(undefined);
    await h.twin.settle();
  }
  await h.twin.extract(healed);
  await h.twin.settle();
  slots.push(healed);
  // Backfilled history: three coins, ten days each, a month before the first slot. The second
  // coin's first fetch fails (healed by a second backfill), the third's fails every time.
  const first = Math.floor(slots[0]!.getTime() / DAY_MS) * DAY_MS - 30 * DAY_MS;
  const coins = createMarketSimulator().ids.slice(0, 3);
  chunks = planBackfill({
    plan: 'pro',
    coinIds: coins,
    vsCurrencies: ['usd'],
    from: new Date(first),
    to: new Date(first + 10 * DAY_MS),
    granularity: 'daily',
    now: new Date(),
  }).chunks;
  const outage = new Set([coins[1]!, coins[2]!]);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    if (attempt === 1) outage.add(coins[2]!);
    await runBackfill(chunks, {
      history: flakyHistory(h.market.source, outage),
      lake: h.twin.lake,
      publisher: h.twin.bus,
      warehouse: h.twin.warehouse,
      // A minute apart: each failed attempt keeps its own record (keys are per second).
      clock: { ...systemClock, now: () => new Date(systemClock.now().getTime() + attempt * 60_000) },
      logger: h.logger,
    });
    await h.twin.settle();
  }
  original = await dump(h);
}, 120_000);
afterAll(() => h.close());

async function rebuild(range = {}): Promise<ReplaySummary> {
  await h.twin.close();
  rmSync(twinPaths(h.dir).warehouse, { force: true });
  await h.restart();
  return replay(range);
}

const replay = (range = {}) => replayLake(h.twin.lake, twinDelivery(h.twin), { range });
const day = (d: Date) => d.toISOString().slice(0, 10);

describe('replay rebuilds the warehouse from the lake', () => {
  it('the original holds what the test needs: 6 runs (one failed), a type 2 change, two days', () => {
    expect(original.ops_run).toHaveLength(6);
    expect(original.ops_run.map((r) => (r as { status: string }).status)).toEqual(
      expect.arrayContaining(['failed', 'loaded']),
    );
    expect(original.ops_run.filter((r) => (r as { status: string }).status === 'failed')).toHaveLength(1);
    expect(original.fact_market_snapshot).toHaveLength(5 * 120);
    expect(original.dim_asset.filter((r) => (r as { coin_id: string }).coin_id === renamedCoin)).toHaveLength(
      2,
    );
    expect(original.dim_date.length).toBeGreaterThanOrEqual(2 + 10);
    expect(original.fact_price_history).toHaveLength(2 * 10);
    expect(original.ops_backfill_chunk.map((r) => (r as { status: string }).status).sort()).toEqual([
      'failed',
      'loaded',
      'loaded',
    ]);
  });

  it('delete the warehouse, replay: every table equals the original', async () => {
    const summary = await rebuild();
    // 7 run objects; 5 chunk objects: 2 answers, 1 failed fetch healed, 2 failed fetches of the third.
    expect(summary).toMatchObject({
      found: 7 + 5,
      delivered: 7 + 5,
      loaded: 5 + 2,
      alreadyLoaded: 0,
      failuresRecorded: 2 + 3,
      rowsLoaded: 5 * 120,
      history: { found: 5, loaded: 2, alreadyLoaded: 0, failuresRecorded: 3, pointsLoaded: 2 * 10 },
      failed: [],
      interrupted: false,
    });
    expect(await dump(h)).toEqual(original);
  }, 60_000);

  it('replay again: every run is already loaded and nothing doubles', async () => {
    const summary = await replay();
    expect(summary).toMatchObject({
      found: 7 + 5,
      delivered: 7 + 5,
      loaded: 0,
      alreadyLoaded: 5 + 2,
      failuresRecorded: 2 + 3,
      rowsLoaded: 0,
      history: { found: 5, loaded: 0, alreadyLoaded: 2, failuresRecorded: 3, pointsLoaded: 0 },
    });
    expect(await dump(h)).toEqual(original);
  }, 60_000);

  it('--from/--to keep to the dt= partitions in range', async () => {
    const last = slots[3]!;
    const summary = await rebuild({ from: day(last), to: day(last) });
    // The backfilled month lies before every slot: no chunk touches the last day.
    expect(summary).toMatchObject({ found: 4, loaded: 2, failuresRecorded: 2, history: { found: 0 } });
    expect(await h.count('select count(*) from fact_price_history')).toBe(0);
    const rows = await h.twin.warehouse.query('select distinct run_id from fact_market_snapshot order by 1');
    expect(rows).toEqual(
      [last, slots[4]!].map((t) => ({
        run_id: `coingecko_usd_${t.toISOString().replace(/[-:]|\.\d{3}/g, '')}`,
      })),
    );
    // From the chunks' last day on: the chunks still touch the range, so they are replayed whole.
    const lastChunkDay = day(new Date(chunks[0]!.to.getTime() - 1));
    const early = await replay({ from: lastChunkDay, to: day(slots[0]!) });
    expect(early).toMatchObject({ found: 3 + 5, loaded: 3 + 2, history: { found: 5, pointsLoaded: 2 * 10 } });
    // Loaded out of slot order, the data is the same; only ops_run's asset_versions_new (what each
    // load created, which depends on the order) may differ, so it is left out here.
    const { ops_run: runs, ...rest } = await dump(h);
    const { ops_run: originalRuns, ...originalRest } = original;
    expect(rest).toEqual(originalRest);
    const withoutVersions = (rows: unknown[]) =>
      rows.map((r) => ({ ...(r as Record<string, unknown>), asset_versions_new: undefined }));
    expect(withoutVersions(runs!)).toEqual(withoutVersions(originalRuns!));
  }, 60_000);

  it('a broken object and a stray file are reported; the rest still loads', async () => {
    const partition = join(twinPaths(h.dir).lake, RAW_PREFIX, 'vs_currency=usd', 'dt=2026-01-01');
    mkdirSync(partition, { recursive: true });
    writeFileSync(join(partition, 'coingecko_usd_20260101T000000Z.json'), '{"not": "a raw object"}');
    writeFileSync(join(partition, 'notes.txt'), 'left by a person');
    const summary = await rebuild();
    expect(summary.found).toBe(8 + 5);
    expect(summary.loaded).toBe(5 + 2);
    expect(summary.delivered).toBe(7 + 5);
    expect(summary.failed).toEqual([
      {
        object: `${RAW_PREFIX}vs_currency=usd/dt=2026-01-01/coingecko_usd_20260101T000000Z.json`,
        runId: 'coingecko_usd_20260101T000000Z',
        reason: expect.stringMatching(/unexpected shape at manifest/),
      },
    ]);
    expect(summary.ignored).toEqual([`${RAW_PREFIX}vs_currency=usd/dt=2026-01-01/notes.txt`]);
    expect(await dump(h)).toEqual(original);
    rmSync(partition, { recursive: true });
  }, 60_000);
});
