import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryChunkEvent } from '../../functions/src/core/event.js';
import { systemClock, type EventPublisher } from '../../functions/src/core/ports.js';
import { createCoinGeckoClient } from '../../functions/src/extract/coingecko-client.js';
import { planBackfill, type HistoryChunk } from '../../functions/src/history/chunk-plan.js';
import { decodeHistoryObject } from '../../functions/src/history/history-object.js';
import { runBackfill, type BackfillDeps } from '../../twin/src/backfill/run-backfill.js';
import {
  beyondWindowResponse,
  createMarketSimulator,
  jsonResponse,
  simulatorResponder,
  type MarketChartQuery,
  type MarketResponder,
} from '../../twin/src/market/index.js';
import { closeServersAfterAll, serve } from '../support/market-servers.js';
import { openHarness, type Harness } from '../support/twin-harness.js';

/**
 * The backfill on the twin: the real client against the market server, the lake folder, the local
 * bus and the DuckDB warehouse. Idempotency (a second run, overlapping ranges, redelivery, a crash
 * between lake write and publish) and failures (10012, malformed bodies) that leave good chunks loaded.
 */
closeServersAfterAll();

const DAY = 86_400_000;
const NOW = new Date();
const today = Math.floor(NOW.getTime() / DAY) * DAY;
const simulator = createMarketSimulator();
const [COIN_A, COIN_B, COIN_C] = simulator.ids as [string, string, string];

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(() => h.close());

function plan(
  coinIds: string[],
  fromDaysAgo: number,
  toDaysAgo: number,
  granularity: 'daily' | 'hourly' = 'daily',
) {
  return planBackfill({
    plan: 'pro',
    coinIds,
    vsCurrencies: ['usd'],
    from: new Date(today - fromDaysAgo * DAY),
    to: new Date(today - toDaysAgo * DAY),
    granularity,
    now: NOW,
  }).chunks;
}

function deps(overrides: Partial<BackfillDeps> = {}): BackfillDeps {
  return {
    history: h.market.source,
    lake: h.twin.lake,
    publisher: h.twin.bus,
    warehouse: h.twin.warehouse,
    clock: systemClock,
    logger: h.logger,
    ...overrides,
  };
}

async function backfill(chunks: HistoryChunk[], overrides: Partial<BackfillDeps> = {}) {
  const result = await runBackfill(chunks, deps(overrides));
  await h.twin.settle();
  return result;
}

const rows = (coin?: string) =>
  h.count(`select count(*) from fact_price_history${coin ? ` where coin_id = '${coin}'` : ''}`);

describe('backfill into fact_price_history', () => {
  test('loads every day once; a second backfill of the same range makes no call and adds nothing', async () => {
    const chunks = plan([COIN_A, COIN_B], 100, 10);
    const first = await backfill(chunks);
    expect(first.reports.map((r) => r.outcome)).toEqual(['fetched', 'fetched']);
    expect(await rows(COIN_A)).toBe(90);
    expect(await rows(COIN_B)).toBe(90);
    expect(await h.count(`select count(*) from ops_backfill_chunk where status = 'loaded'`)).toBe(2);

    const requests = h.market.simulator!.requestCount;
    const second = await backfill(chunks);
    expect(second.reports.map((r) => r.outcome)).toEqual(['already_loaded', 'already_loaded']);
    expect(h.market.simulator!.requestCount).toBe(requests);
    expect(await rows()).toBe(180);
  });

  test('an overlapping range adds only the points it does not share', async () => {
    await backfill(plan([COIN_A], 100, 50));
    await backfill(plan([COIN_A], 70, 20));
    expect(await rows(COIN_A)).toBe(80);
    const loads = h.twin.historyLoads.map((l) => l.pointsInserted);
    expect(loads).toEqual([50, 30]);
  });

  test('hourly: 90-day chunks, one point per hour, never mixed with daily points of the same days', async () => {
    await backfill(plan([COIN_A], 100, 0, 'hourly').slice(0, 1));
    await backfill(plan([COIN_A], 100, 10, 'daily'));
    expect(await h.count(`select count(*) from fact_price_history where granularity = 'hourly'`)).toBe(
      90 * 24,
    );
    expect(await h.count(`select count(*) from fact_price_history where granularity = 'daily'`)).toBe(90);
    expect(
      await h.count(
        `select count(*) from fact_price_history where granularity = 'hourly' and epoch_ms(source_ts) % 3600000 = 0`,
      ),
    ).toBe(0);
  });

  test('a redelivered chunk event adds nothing', async () => {
    const published: Parameters<EventPublisher['publish']>[0][] = [];
    const spy: EventPublisher = { publish: async (e) => (published.push(e), h.twin.bus.publish(e)) };
    await backfill(plan([COIN_A], 30, 0), { publisher: spy });
    await h.twin.bus.publish(published[0]!);
    await h.twin.settle();
    expect(h.twin.historyLoads.map((l) => l.status)).toEqual(['loaded', 'already_loaded']);
    // The event counts the points of the object it names (from the body just fetched).
    const event = published[0] as HistoryChunkEvent;
    const kept = decodeHistoryObject(
      await h.twin.lake.read({ bucket: event.bucket, key: event.object, generation: event.generation }),
    );
    expect(event.pointCount).toBe((kept.body as { prices: unknown[] }).prices.length);
    expect(event.pointCount).toBeGreaterThan(0);
    expect(await rows(COIN_A)).toBe(await h.count(`select sum(points_loaded) from ops_backfill_chunk`));
  });

  test('a crash between the lake write and the publish: the next backfill loads the chunk from the lake', async () => {
    const chunks = plan([COIN_A, COIN_B, COIN_C], 60, 0);
    let calls = 0;
    const crashing: EventPublisher = {
      publish: async (e) => {
        if (++calls === 2) throw new Error('killed');
        return h.twin.bus.publish(e);
      },
    };
    await expect(backfill(chunks, { publisher: crashing })).rejects.toThrow('killed');
    await h.twin.settle();
    await h.restart();
    const requests = h.market.simulator!.requestCount;
    const again = await backfill(chunks);
    expect(again.reports.map((r) => r.outcome)).toEqual(['already_loaded', 'redelivered', 'fetched']);
    expect(h.market.simulator!.requestCount).toBe(requests + 1);
    const expected = await h.count(
      `select count(distinct ts) * 3 from fact_price_history where coin_id = '${COIN_A}'`,
    );
    expect(await rows()).toBe(expected);
  });

  test('Ctrl-C between chunks stops after the chunk in flight; started again it finishes', async () => {
    const chunks = plan([COIN_A, COIN_B, COIN_C], 60, 0);
    const controller = new AbortController();
    const first = await backfill(chunks, { signal: controller.signal, onChunk: () => controller.abort() });
    expect(first).toMatchObject({ interrupted: true });
    expect(first.reports).toHaveLength(1);
    const second = await backfill(chunks);
    expect(second.reports.map((r) => r.outcome)).toEqual(['already_loaded', 'fetched', 'fetched']);
    expect(await h.count(`select count(*) from ops_backfill_chunk where status = 'loaded'`)).toBe(3);
  });
});

describe('failures are specific, kept in the lake, and leave the other chunks loaded', () => {
  /** The simulator, except that one coin's ranges answer 10012 and another's a CDN page. */
  function faultyMarket(): MarketResponder {
    const simulated = simulatorResponder(simulator);
    return {
      markets: (q) => simulated.markets(q),
      marketChartRange: (q: MarketChartQuery) => {
        if (q.coinId === COIN_A) return beyondWindowResponse(NOW, 365);
        if (q.coinId === COIN_B) return jsonResponse({ prices: 'not a list' });
        return simulated.marketChartRange(q);
      },
    };
  }

  test('10012 and a malformed body: clear errors, raw bytes in failures/, good coin loaded, retried next time', async () => {
    const server = await serve(faultyMarket());
    const history = createCoinGeckoClient({
      ...h.config.coingecko,
      baseUrl: server.url,
      callsPerMinute: 100_000,
    });
    const result = await backfill(plan([COIN_A, COIN_B, COIN_C], 40, 0), { history });
    expect(result.reports.map((r) => r.outcome)).toEqual(['failed', 'failed', 'fetched']);
    const [beyond, malformed] = result.reports;
    expect(beyond!.error!.message).toMatch(
      /HTTP 401 \(CoinGecko error 10012: Your request exceeds the allowed time range.*\)\. The request reaches beyond the keyless plan's historical data window/,
    );
    expect(malformed!.error).toMatchObject({ code: 'coingecko_malformed_body' });
    expect(malformed!.error!.message).toMatch(/body has no "prices" array/);

    const record = JSON.parse(readFileSync(join(h.twin.lake.root, beyond!.object!), 'utf8')) as {
      body: string;
    };
    expect(beyond!.object).toMatch(/^failures\/coingecko\/market_chart_range\/vs_currency=usd\/coin_id=/);
    expect(JSON.parse(record.body)).toMatchObject({ error: { status: { error_code: 10012 } } });

    expect(await rows(COIN_C)).toBe(40);
    const failed = await h.twin.warehouse.query(
      `select coin_id, status, error_code from ops_backfill_chunk order by coin_id`,
    );
    expect(failed).toEqual(
      expect.arrayContaining([
        { coin_id: COIN_A, status: 'failed', error_code: 'coingecko_api_error' },
        { coin_id: COIN_B, status: 'failed', error_code: 'coingecko_malformed_body' },
        { coin_id: COIN_C, status: 'loaded', error_code: null },
      ]),
    );

    // The market recovers: the failed chunks (their keys are still free) are fetched and loaded.
    const again = await backfill(plan([COIN_A, COIN_B, COIN_C], 40, 0));
    expect(again.reports.map((r) => r.outcome)).toEqual(['fetched', 'fetched', 'already_loaded']);
    expect(await rows()).toBe(120);
    expect(await h.count(`select count(*) from ops_backfill_chunk where status = 'loaded'`)).toBe(3);
  });
});

describe('the API key is never stored', () => {
  test('an answer that echoes the key is kept with the key redacted', async () => {
    const KEY = 'CG-backfill-s3cr3t-key';
    const server = await serve({
      markets: () => jsonResponse([]),
      marketChartRange: () => ({
        ...beyondWindowResponse(NOW, 365),
        body: JSON.stringify({
          error: { status: { error_code: 10012, error_message: `key ${KEY} is limited` } },
        }),
      }),
    });
    const history = createCoinGeckoClient({
      ...h.config.coingecko,
      plan: 'demo',
      apiKey: KEY,
      baseUrl: server.url,
      callsPerMinute: 30,
    });
    const result = await backfill(plan([COIN_A], 10, 0), { history, secrets: [KEY] });
    expect(result.reports[0]!.outcome).toBe('failed');
    const kept = readFileSync(join(h.twin.lake.root, result.reports[0]!.object!), 'utf8');
    expect(kept).toContain('10012');
    expect(kept).not.toContain(KEY);
  });
});
