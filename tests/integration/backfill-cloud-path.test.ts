import type { HttpFunction } from '@google-cloud/functions-framework';
import { systemClock } from '../../functions/src/core/ports.js';
import { createExtractHandler } from '../../functions/src/extract/http-handler.js';
import { planBackfill } from '../../functions/src/history/chunk-plan.js';
import { backfillRequestOf } from '../../functions/src/history/backfill-request.js';
import { createMarketSimulator } from '../../twin/src/market/index.js';
import { openHarness, type Harness } from '../support/twin-harness.js';

/**
 * The cloud fan-out, without a cloud: a `backfill-requests` message as its push subscription posts
 * it to the `extract` function (the same handler the Functions Framework serves), with the twin's
 * lake and bus (loading through the load handler) behind it.
 */
const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const [COIN] = createMarketSimulator().ids;

let h: Harness;
beforeEach(async () => {
  h = await openHarness({ env: { RETRY_BUDGET_SECONDS: '1' } });
});
afterEach(() => h.close());

function handler(): HttpFunction {
  const { vsCurrency, coinLimit, perPage, cadenceMinutes } = h.config;
  return createExtractHandler(
    { vsCurrency, coinLimit, perPage, cadenceMinutes },
    {
      market: h.market.source,
      history: h.market.source,
      lake: h.twin.lake,
      publisher: h.twin.bus,
      clock: systemClock,
      logger: h.logger,
    },
  );
}

/** Posts a push body to the handler; resolves to the status and JSON it answered. */
async function push(data: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const answer = { status: 0, body: {} as Record<string, unknown> };
  const res = {
    status(code: number) {
      answer.status = code;
      return res;
    },
    json(body: Record<string, unknown>) {
      answer.body = body;
      return res;
    },
  };
  const req = {
    body: {
      message: {
        data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64'),
        messageId: '1',
      },
      subscription: 'projects/p/subscriptions/crypto-dev-backfill-requests-to-extract',
    },
    query: {},
    get: () => undefined,
  };
  await handler()(
    req as unknown as Parameters<HttpFunction>[0],
    res as unknown as Parameters<HttpFunction>[1],
  );
  return answer;
}

const chunk = () =>
  planBackfill({
    plan: 'demo',
    coinIds: [COIN!],
    vsCurrencies: ['usd'],
    from: new Date(today - 30 * DAY),
    to: new Date(today - DAY),
    granularity: 'daily',
    now: new Date(),
  }).chunks[0]!;

describe('extract takes backfill chunk requests pushed from Pub/Sub', () => {
  test('fetches the chunk, keeps it in the lake, the load loads it; a redelivery fetches nothing', async () => {
    const first = await push(backfillRequestOf(chunk()));
    expect(first).toMatchObject({ status: 200, body: { status: 'fetched', chunkId: chunk().chunkId } });
    await h.twin.settle();
    expect(await h.count('select count(*) from fact_price_history')).toBe(29);

    const requests = h.market.simulator!.requestCount;
    const again = await push(backfillRequestOf(chunk()));
    expect(again).toMatchObject({ status: 200, body: { status: 'redelivered' } });
    await h.twin.settle();
    expect(h.market.simulator!.requestCount).toBe(requests);
    expect(h.twin.historyLoads.map((l) => l.status)).toEqual(['loaded', 'already_loaded']);
    expect(await h.count('select count(*) from fact_price_history')).toBe(29);
  });

  test.each([
    ['not JSON', 'push message data is not JSON'],
    [{ kind: 'backfill_chunk' }, 'not a backfill request: schemaVersion'],
    [{ ...backfillRequestOf(chunk()), coinId: 'BTC' }, 'coinId: not a CoinGecko coin id'],
    [{ ...backfillRequestOf(chunk()), to: backfillRequestOf(chunk()).from }, 'from must come before to'],
  ])('a malformed request is acknowledged with a specific reason: %j', async (data, message) => {
    const r = await push(data);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'invalid_request' });
    expect(String(r.body.error)).toContain(message);
  });

  test('a transient failure answers 503 so Pub/Sub redelivers it later; the retry loads it', async () => {
    h.market.simulator!.setFaults({ serverErrorEveryNth: 1 });
    const failed = await push(backfillRequestOf(chunk()));
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ status: 'failed', error: { retryable: true } });
    h.market.simulator!.setFaults(undefined);
    const retried = await push(backfillRequestOf(chunk()));
    expect(retried).toMatchObject({ status: 200, body: { status: 'fetched' } });
    await h.twin.settle();
    const [record] = await h.twin.warehouse.query('select status from ops_backfill_chunk');
    expect(record).toEqual({ status: 'loaded' });
  });
});
