import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../functions/src/core/ports.js';
import { createCoinGeckoClient } from '../../functions/src/extract/coingecko-client.js';
import { planBackfill, type Granularity } from '../../functions/src/history/chunk-plan.js';
import { runBackfill } from '../../twin/src/backfill/run-backfill.js';
import { openReplay, startMarketServer, type MarketServer } from '../../twin/src/market/index.js';
import { Twin } from '../../twin/src/twin.js';
import { CORPUS_DIR, requireCorpus } from '../support/corpus.js';
import { memoryLogger, tempDir, testConfig } from '../support/twin-harness.js';

/**
 * The backfill on real market_chart answers (the corpus's two saved bitcoin responses, 365 days
 * daily and 30 days hourly, each ending on a "now" point off the grid), served by `replay:DIR`
 * through the real client, lake, bus and warehouse.
 */
requireCorpus();
const CHART_DIR = join(CORPUS_DIR, 'market_chart');
const HOUR = 3_600_000;

type Series = [number, number][];
const saved = readdirSync(CHART_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(CHART_DIR, f), 'utf8')) as { prices: Series });
const savedTimes = [...new Set(saved.flatMap((b) => b.prices.map(([t]) => t)))];

let server: MarketServer;
let dir: string;
let twin: Twin;
beforeAll(async () => {
  server = await startMarketServer(await openReplay(CHART_DIR));
});
afterAll(() => server.close());
beforeEach(async () => {
  dir = tempDir('cmp-corpus-backfill-');
  twin = await Twin.open({ config: testConfig(dir), logger: memoryLogger() });
});
afterEach(async () => {
  await twin.close();
  rmSync(dir, { recursive: true, force: true });
});

async function backfill(from: string, to: string, granularity: Granularity, now: string) {
  const config = testConfig(dir);
  const { chunks } = planBackfill({
    plan: 'keyless',
    coinIds: ['bitcoin'],
    vsCurrencies: ['usd'],
    from: new Date(`${from}T00:00:00Z`),
    to: new Date(
      Math.min(Date.parse(`${to}T00:00:00Z`) + 86_400_000, Math.floor(Date.parse(now) / HOUR) * HOUR),
    ),
    granularity,
    now: new Date(now),
  });
  const history = createCoinGeckoClient({
    ...config.coingecko,
    baseUrl: server.url,
    callsPerMinute: 100_000,
  });
  const result = await runBackfill(chunks, {
    history,
    lake: twin.lake,
    publisher: twin.bus,
    warehouse: twin.warehouse,
    clock: systemClock,
    logger: memoryLogger(),
  });
  await twin.settle();
  return result;
}

const rows = (where = 'true') =>
  twin.warehouse.query(
    `select ts, source_ts, price, market_cap, total_volume from fact_price_history where ${where} order by ts`,
  );

describe('backfill from the real market_chart answers', () => {
  test('daily over the saved year: one point per day, the midnight point (never "now")', async () => {
    const result = await backfill('2023-12-29', '2024-12-26', 'daily', '2024-12-27T03:00:00Z');
    expect(result.reports.map((r) => r.outcome)).toEqual(['fetched']);
    const loaded = await rows();
    expect(loaded).toHaveLength(364);
    expect(loaded.every((r) => (r.source_ts as Date).getTime() % 86_400_000 === 0)).toBe(true);
    expect(loaded[0]).toMatchObject({ ts: new Date('2023-12-29T00:00:00Z'), price: 42600.65063315619 });
    expect(twin.historyLoads).toEqual([
      expect.objectContaining({ status: 'loaded', rejected: 0, pointsInserted: 364 }),
    ]);
  });

  test('hourly over the saved month: every hour with a point once, source times off the hour kept', async () => {
    await backfill('2024-11-04', '2024-12-03', 'hourly', '2024-12-03T21:30:00Z');
    const from = Date.parse('2024-11-04T00:00:00Z');
    const to = Date.parse('2024-12-03T21:00:00Z');
    const expectedHours = new Set(
      savedTimes
        .filter((t) => t >= from && t < to + HOUR)
        .map((t) => Math.floor(t / HOUR) * HOUR)
        .filter((h) => h < to),
    );
    const loaded = await rows();
    expect(loaded.map((r) => (r.ts as Date).getTime())).toEqual([...expectedHours].sort((a, b) => a - b));
    expect(loaded.length).toBeGreaterThan(28 * 24);
    // The last hour holds 20:09:05.380, not the "now" point 20:57:48 that follows it.
    expect(loaded.at(-1)).toMatchObject({
      ts: new Date('2024-12-03T20:00:00Z'),
      source_ts: new Date(1733256545380),
      price: 95358.3280631854,
    });
  });

  test('an hourly range only the daily file covers keeps its daily points; a second run adds nothing', async () => {
    const first = await backfill('2024-12-10', '2024-12-20', 'hourly', '2024-12-27T03:00:00Z');
    expect(first.reports.map((r) => r.outcome)).toEqual(['fetched']);
    const daily = await rows();
    // The year file has one midnight point a day there; an hourly backfill keeps what there is.
    expect(daily).toHaveLength(11);
    const again = await backfill('2024-12-10', '2024-12-20', 'hourly', '2024-12-27T03:00:00Z');
    expect(again.reports.map((r) => r.outcome)).toEqual(['already_loaded']);
    expect(await rows()).toHaveLength(11);
  });
});
