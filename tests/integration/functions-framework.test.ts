import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { systemClock } from '../../functions/src/core/ports.js';
import { encodeEvent, type PushEnvelope } from '../../functions/src/core/pubsub-envelope.js';
import { createExtractHandler, SCHEDULE_TIME_HEADER } from '../../functions/src/extract/http-handler.js';
import { createLoadHandler } from '../../functions/src/load/cloudevent-handler.js';
import { pushToCloudEventData } from '../../twin/src/adapters/push-to-cloudevent.js';
import { openHarness, type Harness } from '../support/twin-harness.js';

/**
 * The real Functions Framework in front of the pipeline's handlers: extract as Cloud Scheduler calls
 * it, load as a Pub/Sub push subscription calls it (raw push body, converted by the framework into
 * a CloudEvent), with the twin's lake, bus and warehouse behind them.
 */
const TOPIC_PATH = '/projects/local/topics/market-runs';
let h: Harness;
let probed: unknown[] = [];
const servers: Server[] = [];

async function listen(name: string): Promise<string> {
  const server = getTestServer(name);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let extractUrl: string;
let loadUrl: string;
let probeUrl: string;

beforeAll(async () => {
  h = await openHarness();
  const { vsCurrency, coinLimit, perPage, cadenceMinutes } = h.config;
  functions.http(
    'extract',
    createExtractHandler(
      { vsCurrency, coinLimit, perPage, cadenceMinutes },
      {
        market: h.market.source,
        lake: h.twin.lake,
        publisher: h.twin.bus,
        clock: systemClock,
        logger: h.logger,
      },
    ),
  );
  functions.cloudEvent(
    'load',
    createLoadHandler({
      lake: h.twin.lake,
      warehouse: h.twin.warehouse,
      clock: systemClock,
      logger: h.logger,
    }),
  );
  functions.cloudEvent('probe', (event: functions.CloudEvent<unknown>) => {
    probed.push(event.data);
  });
  [extractUrl, loadUrl, probeUrl] = await Promise.all([listen('extract'), listen('load'), listen('probe')]);
  // The push subscription: the bus POSTs each message to load over HTTP, as Pub/Sub does.
  h.twin.bus.subscribe(async (envelope) => {
    const response = await push(loadUrl, envelope);
    if (!response.ok) throw new Error(`push endpoint answered ${response.status}`);
  });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await h.close();
});

beforeEach(() => {
  probed = [];
});

const push = (base: string, body: unknown) =>
  fetch(`${base}${TOPIC_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const envelope = (data: string): PushEnvelope => ({
  message: {
    data,
    attributes: { kind: 'raw_snapshot' },
    messageId: '42',
    publishTime: '2026-11-21T05:00:01.000Z',
  },
  subscription: 'projects/local/subscriptions/market-runs-load',
  deliveryAttempt: 1,
});

describe('extract behind the Functions Framework', () => {
  it('runs the slot of the Cloud Scheduler schedule time and the push to load fills the warehouse', async () => {
    h.market.simulator!.setTime(new Date('2026-11-21T06:00:00Z'));
    const response = await fetch(extractUrl, {
      method: 'POST',
      headers: { [SCHEDULE_TIME_HEADER]: '2026-11-21T06:00:00Z', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(200);
    const summary = (await response.json()) as Record<string, unknown>;
    expect(summary).toMatchObject({
      status: 'extracted',
      runId: 'coingecko_usd_20261121T060000Z',
      records: 120,
    });
    await h.twin.settle();
    expect(await h.count(`select count(*) from fact_market_snapshot where run_id = '${summary.runId}'`)).toBe(
      120,
    );
  });

  it('lets a manual run name its slot in the body', async () => {
    h.market.simulator!.setTime(new Date('2026-11-20T00:00:00Z'));
    const response = await fetch(extractUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ slot: '2026-11-20T00:10:00Z' }),
    });
    expect(await response.json()).toMatchObject({ runId: 'coingecko_usd_20261120T000000Z' });
    await h.twin.settle();
  });

  it('answers 400 with a clear message for a slot that is not a time', async () => {
    const response = await fetch(`${extractUrl}?slot=tomorrow`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: expect.stringContaining('ISO 8601') });
  });

  it('answers 503 on a transient failure (so Scheduler retries) and 200 with status failed on a terminal one', async () => {
    h.market.simulator!.setFaults({ serverErrorEveryNth: 1 });
    const transient = await fetch(extractUrl, {
      headers: { [SCHEDULE_TIME_HEADER]: '2026-11-22T00:00:00Z' },
    });
    expect(transient.status).toBe(503);
    expect(await transient.json()).toMatchObject({ status: 'failed', error: { retryable: true } });

    h.market.simulator!.setFaults({
      errorEnvelope: { status: 401, code: 10002, message: 'Missing API key' },
    });
    const terminal = await fetch(extractUrl, { headers: { [SCHEDULE_TIME_HEADER]: '2026-11-22T00:15:00Z' } });
    expect(terminal.status).toBe(200);
    expect(await terminal.json()).toMatchObject({
      status: 'failed',
      error: {
        code: 'coingecko_api_error',
        retryable: false,
        message: expect.stringContaining('Missing API key'),
      },
    });
    h.market.simulator!.setFaults(undefined);
    await h.twin.settle();
  });
});

describe('load behind the Functions Framework (Pub/Sub push)', () => {
  it('receives exactly the CloudEvent data the twin builds from a push body', async () => {
    const body = envelope(encodeEvent({ hello: 'x' } as never));
    const response = await push(probeUrl, body);
    expect(response.status).toBeLessThan(300);
    expect(probed).toEqual([pushToCloudEventData(body)]);
  });

  it('acknowledges a poison message (2xx) and logs it', async () => {
    const response = await push(loadUrl, envelope(Buffer.from('not json').toString('base64')));
    expect(response.status).toBeLessThan(300);
    expect(h.logger.lines.at(-1)).toMatchObject({
      severity: 'ERROR',
      message: expect.stringContaining('poison'),
    });
  });

  it('answers an error status on a transient failure, so Pub/Sub redelivers and finally dead-letters', async () => {
    h.market.simulator!.setTime(new Date('2026-11-23T00:00:00Z'));
    h.twin.warehouse.failpoint = () => {
      throw new Error('IO Error: disk full');
    };
    // The framework reports each crash on console.error: expected here, so kept and asserted
    // rather than printed as a stack trace in a passing run.
    const crashes: unknown[] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => crashes.push(args[0]);
    try {
      await h.twin.extract(new Date('2026-11-23T00:00:00Z'));
      await h.twin.settle();
    } finally {
      h.twin.warehouse.failpoint = undefined;
      console.error = consoleError;
    }
    expect(crashes).toHaveLength(5);
    expect(String(crashes[0])).toMatch(/LoadError: warehouse write failed: IO Error: disk full/);
    const [dead] = await h.twin.bus.deadLetters();
    expect(dead).toMatchObject({ attempts: 5, lastError: 'push endpoint answered 500' });
    expect(
      await h.count(`select count(*) from fact_market_snapshot where slot_ts = '2026-11-23 00:00:00'`),
    ).toBe(0);

    expect(await h.twin.bus.redrive()).toBe(1);
    await h.twin.settle();
    expect(
      await h.count(`select count(*) from fact_market_snapshot where slot_ts = '2026-11-23 00:00:00'`),
    ).toBe(120);
  });
});
