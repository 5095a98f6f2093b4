import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { restClient, type TokenSource } from '../../functions/src/adapters/gcp/google-rest.js';
import {
  CanonicalCode,
  classifyPublishError,
  PubSubEventPublisher,
} from '../../functions/src/adapters/gcp/pubsub-publisher.js';
import { PubSubRestPublisher } from '../../functions/src/adapters/gcp/pubsub-rest-publisher.js';
import { EVENT_SCHEMA_VERSION, RunEventSchema, type RunEvent } from '../../functions/src/core/event.js';
import { ExtractError } from '../../functions/src/extract/errors.js';
import { FakeGcpServer, type FakeResponse } from '../support/fake-gcp-server.js';
import { rejection } from '../support/rejection.js';

/**
 * The extract function's Pub/Sub publisher (ARCHITECTURE.md §6) at the HTTP level: the real REST
 * client and publisher against a local server speaking Pub/Sub's topics.publish, so the request
 * (path, token, base64 data, attributes) and every kind of failure are checked on the wire.
 * Nothing leaves 127.0.0.1.
 */

const EVENT: RunEvent = {
  schemaVersion: EVENT_SCHEMA_VERSION,
  kind: 'raw_snapshot',
  runId: 'coingecko_usd_20261121T050000Z',
  source: 'coingecko',
  vsCurrency: 'usd',
  slot: '2026-11-21T05:00:00.000Z',
  bucket: 'crypto-lake',
  object: 'raw/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/coingecko_usd_20261121T050000Z.json',
  generation: '1763701200123456',
  recordCount: 250,
};

const ATTRIBUTES = {
  schemaVersion: '1',
  kind: 'raw_snapshot',
  runId: 'coingecko_usd_20261121T050000Z',
  slot: '2026-11-21T05:00:00.000Z',
};

const PUBLISH = '/v1/projects/test/topics/runs:publish';

/** Pub/Sub's REST error body: the canonical code's name in `error.status`. */
const pubsubError = (code: number, status: string, message: string): FakeResponse => ({
  status: code,
  body: { error: { code, message, status } },
});

let server: FakeGcpServer;
const sleeps: number[] = [];

beforeAll(async () => {
  server = await FakeGcpServer.start();
});
afterAll(() => server.close());
afterEach(() => {
  server.reset();
  sleeps.length = 0;
});

function publisher(options: { token?: TokenSource; timeoutMs?: number; baseUrl?: string } = {}) {
  const rest = restClient({ token: options.token ?? 'test-token', timeoutMs: options.timeoutMs ?? 5_000 });
  const topic = new PubSubRestPublisher(
    rest,
    options.baseUrl ?? server.url,
    'projects/test/topics/runs',
    (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  );
  return new PubSubEventPublisher(topic);
}

describe('PubSubEventPublisher over the Pub/Sub REST API', () => {
  it('POSTs one message with the JSON pointer as base64 data and the event attributes, and returns its id', async () => {
    server.on('POST', PUBLISH, { body: { messageIds: ['server-id-1'] } });

    await expect(publisher().publish(EVENT)).resolves.toBe('server-id-1');

    const [request] = server.find('POST', PUBLISH);
    expect(server.requests).toHaveLength(1);
    expect(request!.headers.authorization).toBe('Bearer test-token');
    const sent = JSON.parse(request!.body.toString('utf8')) as {
      messages: { data: string; attributes: Record<string, string> }[];
    };
    expect(sent.messages).toHaveLength(1);
    const [message] = sent.messages;
    expect(RunEventSchema.parse(JSON.parse(Buffer.from(message!.data, 'base64').toString('utf8')))).toEqual(
      EVENT,
    );
    expect(message!.attributes).toEqual(ATTRIBUTES);
  });

  it('asks the token source before each publish, and sends no token when it yields none (an emulator)', async () => {
    server.on('POST', PUBLISH, { body: { messageIds: ['a'] } });
    const tokens = ['first', null];

    const p = publisher({ token: () => Promise.resolve(tokens.shift()) });
    await p.publish(EVENT);
    await p.publish(EVENT);

    const [first, second] = server.find('POST', PUBLISH);
    expect(first!.headers.authorization).toBe('Bearer first');
    expect(second!.headers.authorization).toBeUndefined();
  });

  it('refuses an invalid event without publishing it (it would poison every subscriber)', async () => {
    const error = await rejection(publisher().publish({ ...EVENT, generation: 'abc' }));

    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toMatchObject({ code: 'event_invalid', retryable: false });
    expect(server.requests).toEqual([]);
  });

  it.each([
    [404, 'NOT_FOUND', false],
    [403, 'PERMISSION_DENIED', false],
    [401, 'UNAUTHENTICATED', false],
    [400, 'INVALID_ARGUMENT', false],
    [400, 'FAILED_PRECONDITION', false],
  ])('fails at once on HTTP %i %s, as a terminal ExtractError', async (status, name, retryable) => {
    server.on('POST', PUBLISH, pubsubError(status, name, `fake ${name}`));

    const error = await rejection(publisher().publish(EVENT));

    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toMatchObject({ stage: 'extract', code: `pubsub_${name.toLowerCase()}`, retryable });
    expect(error.message).toContain(`fake ${name}`);
    expect(error.details).toMatchObject({
      topic: 'projects/test/topics/runs',
      code: CanonicalCode[name as keyof typeof CanonicalCode],
      httpStatus: status,
    });
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [429, 'RESOURCE_EXHAUSTED'],
    [503, 'UNAVAILABLE'],
    [500, 'INTERNAL'],
  ])(
    'retries HTTP %i %s with backoff, then fails as retryable (the platform tries again)',
    async (status, name) => {
      server.on('POST', PUBLISH, pubsubError(status, name, `fake ${name}`));

      const error = await rejection(publisher().publish(EVENT));

      expect(error).toMatchObject({ code: `pubsub_${name.toLowerCase()}`, retryable: true });
      expect(server.requests).toHaveLength(4);
      expect(sleeps).toEqual([500, 1000, 2000]);
    },
  );

  it('publishes when a retried call succeeds', async () => {
    server.once('POST', PUBLISH, pubsubError(503, 'UNAVAILABLE', 'busy'));
    server.on('POST', PUBLISH, { body: { messageIds: ['after-retry'] } });

    await expect(publisher().publish(EVENT)).resolves.toBe('after-retry');
    expect(server.requests).toHaveLength(2);
  });

  it('reads the code from the HTTP status when the body names none (a proxy page)', async () => {
    server.on('POST', PUBLISH, { status: 403, body: '<html>Forbidden</html>' });

    const error = await rejection(publisher().publish(EVENT));

    expect(error).toMatchObject({ code: 'pubsub_permission_denied', retryable: false });
  });

  it('treats a 200 without a message id as retryable (delivery unknown)', async () => {
    server.on('POST', PUBLISH, { body: {} });

    const error = await rejection(publisher().publish(EVENT));

    expect(error).toMatchObject({ code: 'pubsub_publish_failed', retryable: true });
  });

  it('times out a server that never answers, as a retryable DEADLINE_EXCEEDED', async () => {
    server.on(
      'POST',
      PUBLISH,
      () => new Promise<FakeResponse>((resolve) => setTimeout(() => resolve({}), 2_000).unref()),
    );

    const error = await rejection(publisher({ timeoutMs: 100 }).publish(EVENT));

    expect(error).toMatchObject({ code: 'pubsub_deadline_exceeded', retryable: true });
    expect(error.details).toMatchObject({ code: CanonicalCode.DEADLINE_EXCEEDED });
  });

  it('treats a refused connection as retryable, naming the topic', async () => {
    const error = await rejection(publisher({ baseUrl: 'http://127.0.0.1:1' }).publish(EVENT));

    expect(error).toMatchObject({ code: 'pubsub_publish_failed', retryable: true });
    expect(error.message).toContain('cannot publish to projects/test/topics/runs');
  });

  it('treats a failure without any answer (e.g. no token from the metadata server) as retryable', () => {
    expect(classifyPublishError(new Error('socket hang up'), 't')).toMatchObject({
      code: 'pubsub_publish_failed',
      retryable: true,
    });
  });
});
