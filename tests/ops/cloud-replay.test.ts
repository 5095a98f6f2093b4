import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { RunEventSchema } from '../../functions/src/core/event.js';
import { rawObjectKey } from '../../functions/src/core/lake-layout.js';
import { encodeRawObject, type RawManifest } from '../../functions/src/core/raw-object.js';
import { runIdentity } from '../../functions/src/core/run-identity.js';
import type { HistoryChunk } from '../../functions/src/history/chunk-plan.js';
import { HistoryChunkEventSchema } from '../../functions/src/history/history-event.js';
import { encodeHistoryObject } from '../../functions/src/history/history-object.js';
import { historyFailureKey, historyObjectKey } from '../../functions/src/history/lake-keys.js';
import { cloudReplayCommand } from '../../ops/replay/cloud-replay.js';
import { FakeGcpServer, googleError, type RecordedRequest } from '../support/fake-gcp-server.js';

/**
 * `crypto-pipeline replay --stack` against a local HTTP fake of Cloud Storage and Pub/Sub (one
 * FakeGcpServer, pointed at through CLOUD_CHECK_STORAGE_URL / CLOUD_CHECK_PUBSUB_URL): what it
 * lists, what it reads (the listed generation), what it publishes (the extract's event, byte for
 * byte the same JSON), and how it answers 4xx/5xx and a server that does not answer.
 */
const PROJECT = 'acme-2fa-prod';
const BUCKET = 'acme-crypto-raw';
const TOPIC = 'crypto-dev-events';
const LIST = `/storage/v1/b/${BUCKET}/o`;
const OBJECT = new RegExp(`^/storage/v1/b/${BUCKET}/o/.+`);
const PUBLISH = `/v1/projects/${PROJECT}/topics/${TOPIC}:publish`;

const OUTPUTS = { gcpProject: PROJECT, rawBucket: BUCKET, eventsTopic: TOPIC, region: 'us-central1' };

const SLOTS = ['2026-12-04T23:45:00Z', '2026-12-05T00:00:00Z', '2026-12-05T00:15:00Z'];

function rawObject(slot: string, vsCurrency = 'usd'): { name: string; generation: string; bytes: Buffer } {
  const run = runIdentity(new Date(slot), vsCurrency, 15);
  const manifest: RawManifest = {
    schemaVersion: 1,
    runId: run.runId,
    source: 'coingecko',
    endpoint: '/api/v3/coins/markets',
    vsCurrency,
    slot: run.slot.toISOString(),
    market: 'api.coingecko.com (demo)',
    request: { coinLimit: 250, perPage: 250 },
    pages: [],
    recordCount: 250,
    extractedAt: run.slot.toISOString(),
  };
  return {
    name: rawObjectKey(run),
    generation: String(1_700_000_000_000_000 + Date.parse(slot) / 1000),
    bytes: encodeRawObject(manifest, [Buffer.from('[]')]),
  };
}

const OBJECTS = SLOTS.map((s) => rawObject(s));
const STRAY = `raw/coingecko/coins_markets/vs_currency=usd/dt=2026-12-05/README.txt`;

let server: FakeGcpServer;
let dir: string;
let outputsFile: string;
beforeAll(async () => {
  server = await FakeGcpServer.start();
  dir = mkdtempSync(join(tmpdir(), 'cloud-replay-'));
  outputsFile = join(dir, 'outputs.json');
  writeFileSync(outputsFile, JSON.stringify(OUTPUTS));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Two listing pages (the second through nextPageToken) and each object's bytes. */
/** A failed attempt of a slot that never loaded, as run-extract.ts keeps it. */
const FAILURE = {
  name: 'failures/coingecko/coins_markets/vs_currency=usd/dt=2026-12-05/coingecko_usd_20261205T003000Z/20261205T003012Z.json',
  generation: '1700000000000777',
  bytes: Buffer.from(
    JSON.stringify({
      runId: 'coingecko_usd_20261205T003000Z',
      slot: '2026-12-05T00:30:00.000Z',
      attemptAt: '2026-12-05T00:30:12.000Z',
      market: 'api.coingecko.com (demo)',
      error: { code: 'http_401', message: 'CoinGecko answered 401', retryable: false, details: {} },
      body: '{"status":{"error_code":401}}',
    }),
  ),
};

function serveBucket(objects = OBJECTS, failures = [FAILURE], history: typeof OBJECTS = []): void {
  const all = [...objects, ...failures, ...history];
  const listed = (list: typeof OBJECTS) => ({
    body: { items: list.map(({ name, generation }) => ({ name, generation })) },
  });
  server.on('GET', LIST, (req) =>
    String(req.query.prefix).includes('/market_chart_range/')
      ? listed(history.filter((o) => o.name.startsWith(String(req.query.prefix))))
      : req.query.prefix === 'failures/coingecko/coins_markets/'
        ? listed(failures)
        : req.query.pageToken === 'p2'
          ? {
              body: {
                items: [
                  ...objects.slice(1).map(({ name, generation }) => ({ name, generation })),
                  { name: STRAY, generation: '1' },
                ],
              },
            }
          : {
              body: {
                items: objects.slice(0, 1).map(({ name, generation }) => ({ name, generation })),
                nextPageToken: 'p2',
              },
            },
  );
  server.on('GET', OBJECT, (req) => {
    const name = decodeURIComponent(req.path.slice(LIST.length + 1));
    const object = all.find((o) => o.name === name);
    if (!object || req.query.generation !== object.generation)
      return googleError(404, 'notFound', `No such object: ${BUCKET}/${name}`);
    return { body: object.bytes };
  });
}

let published = 0;
beforeEach(() => {
  server.reset();
  published = 0;
  serveBucket();
  server.on('POST', PUBLISH, (req) => {
    const n = (JSON.parse(req.body.toString()) as { messages: unknown[] }).messages.length;
    return { body: { messageIds: Array.from({ length: n }, () => String(++published)) } };
  });
});

const env = () => ({
  CLOUD_CHECK_ACCESS_TOKEN: 'test-token',
  CLOUD_CHECK_STORAGE_URL: server.url,
  CLOUD_CHECK_PUBSUB_URL: `${server.url}/`,
});

async function replay(args: string[]) {
  const lines: string[] = [];
  const sleeps: number[] = [];
  const code = await cloudReplayCommand(
    ['--outputs', outputsFile, ...args],
    env(),
    { out: (l) => lines.push(l) },
    { sleep: async (ms) => void sleeps.push(ms) },
  );
  return { code, text: lines.join('\n'), lines, sleeps };
}

interface PublishedMessage {
  data: string;
  attributes: Record<string, string>;
}
const messagesOf = (reqs: RecordedRequest[]) =>
  reqs.flatMap((r) => (JSON.parse(r.body.toString()) as { messages: PublishedMessage[] }).messages);

/** A backfill chunk's answer and an earlier failed fetch of it, as backfill-chunk.ts keeps them. */
const CHUNK: HistoryChunk = {
  chunkId: 'bitcoin_usd_daily_20261101T000000Z_20261104T000000Z',
  coinId: 'bitcoin',
  vsCurrency: 'usd',
  granularity: 'daily',
  from: new Date('2026-11-01T00:00:00Z'),
  to: new Date('2026-11-04T00:00:00Z'),
};
const HISTORY = [
  {
    name: historyFailureKey(CHUNK, new Date('2026-12-05T01:00:00Z')),
    generation: '1700000000000901',
    bytes: Buffer.from(
      JSON.stringify({
        chunkId: CHUNK.chunkId,
        error: { code: 'http_429', message: 'too many requests', retryable: true, details: {} },
        body: null,
      }),
    ),
  },
  {
    name: historyObjectKey(CHUNK),
    generation: '1700000000000902',
    bytes: encodeHistoryObject(
      {
        schemaVersion: 1,
        chunkId: CHUNK.chunkId,
        source: 'coingecko',
        coinId: 'bitcoin',
        vsCurrency: 'usd',
        granularity: 'daily',
        from: CHUNK.from.toISOString(),
        to: CHUNK.to.toISOString(),
        market: 'api.coingecko.com (demo)',
        url: 'https://api.coingecko.com/api/v3/coins/bitcoin/market_chart/range',
        status: 200,
        fetchedAt: '2026-12-05T01:05:00.000Z',
        durationMs: 120,
        attempts: 1,
        bytes: 10,
      },
      Buffer.from('{"prices":[[1,2],[3,4],[5,6]],"market_caps":[],"total_volumes":[]}'),
    ),
  },
];

describe('replay --stack', () => {
  it("publishes the backfill chunks' history_chunk events after the runs, the failed fetch first", async () => {
    server.reset();
    serveBucket(OBJECTS, [FAILURE], HISTORY);
    server.on('POST', PUBLISH, (req) => {
      const n = (JSON.parse(req.body.toString()) as { messages: unknown[] }).messages.length;
      return { body: { messageIds: Array.from({ length: n }, () => String(++published)) } };
    });
    const r = await replay(['--json', '--from', '2026-11-03', '--to', '2026-12-05']);
    expect(r.code).toBe(0);
    const messages = messagesOf(server.find('POST', PUBLISH));
    const events = messages.map((m) => JSON.parse(Buffer.from(m.data, 'base64').toString()) as unknown);
    const chunkEvent = {
      schemaVersion: 1,
      kind: 'history_chunk',
      chunkId: CHUNK.chunkId,
      source: 'coingecko',
      coinId: 'bitcoin',
      vsCurrency: 'usd',
      granularity: 'daily',
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-04T00:00:00.000Z',
      bucket: BUCKET,
    };
    expect(events.slice(-2)).toEqual([
      {
        ...chunkEvent,
        object: HISTORY[0]!.name,
        generation: HISTORY[0]!.generation,
        pointCount: 0,
        error: { code: 'http_429', message: 'too many requests', retryable: true },
      },
      { ...chunkEvent, object: HISTORY[1]!.name, generation: HISTORY[1]!.generation, pointCount: 3 },
    ]);
    expect(events.slice(-2).every((e) => HistoryChunkEventSchema.safeParse(e).success)).toBe(true);
    expect(messages.at(-1)!.attributes).toMatchObject({ kind: 'history_chunk', chunkId: CHUNK.chunkId });
    expect(JSON.parse(r.text)).toMatchObject({ found: 6, published: 6, failed: [] });
    // A range that ends before the chunk's first day leaves it out.
    const early = await replay(['--json', '--to', '2026-10-31']);
    expect(JSON.parse(early.text)).toMatchObject({ found: 0, published: 0 });
  });

  it("publishes each raw object's extract event, in slot order, at the listed generation", async () => {
    const r = await replay(['--json']);
    expect(r.code).toBe(0);
    const requests = server.find('POST', PUBLISH);
    expect(requests[0]!.headers.authorization).toBe('Bearer test-token');
    const messages = messagesOf(requests);
    const events = messages.map((m) =>
      RunEventSchema.parse(JSON.parse(Buffer.from(m.data, 'base64').toString())),
    );
    expect(events.at(-1)).toEqual({
      schemaVersion: 1,
      kind: 'run_failed',
      runId: 'coingecko_usd_20261205T003000Z',
      source: 'coingecko',
      vsCurrency: 'usd',
      slot: '2026-12-05T00:30:00.000Z',
      bucket: BUCKET,
      object: FAILURE.name,
      generation: FAILURE.generation,
      recordCount: 0,
      error: { code: 'http_401', message: 'CoinGecko answered 401', retryable: false },
    });
    expect(events.slice(0, -1)).toEqual(
      OBJECTS.map((o, i) => ({
        schemaVersion: 1,
        kind: 'raw_snapshot',
        runId: runIdentity(new Date(SLOTS[i]!), 'usd', 15).runId,
        source: 'coingecko',
        vsCurrency: 'usd',
        slot: new Date(SLOTS[i]!).toISOString(),
        bucket: BUCKET,
        object: o.name,
        generation: o.generation,
        recordCount: 250,
      })),
    );
    expect(messages[0]!.attributes).toEqual({
      schemaVersion: '1',
      kind: 'raw_snapshot',
      runId: events[0]!.runId,
      slot: events[0]!.slot,
    });
    expect(server.find('GET', LIST)[0]!.query.prefix).toBe('raw/coingecko/coins_markets/');
    expect(JSON.parse(r.text)).toEqual({
      bucket: BUCKET,
      topic: `projects/${PROJECT}/topics/${TOPIC}`,
      range: { from: null, to: null },
      found: 4,
      published: 4,
      dryRun: false,
      failed: [],
      ignored: [STRAY],
      interrupted: false,
    });
  });

  it('--from/--to keep to the dt= partitions in range and read nothing else', async () => {
    const r = await replay(['--from', '2026-12-05', '--to', '2026-12-05']);
    expect(r.code).toBe(0);
    const runIds = messagesOf(server.find('POST', PUBLISH)).map((m) => m.attributes.runId);
    expect(runIds).toEqual([
      'coingecko_usd_20261205T000000Z',
      'coingecko_usd_20261205T001500Z',
      'coingecko_usd_20261205T003000Z',
    ]);
    expect(server.find('GET', OBJECT)).toHaveLength(3);
    expect(r.text).toMatch(/3 lake object\(s\) found in gs:\/\/acme-crypto-raw, published 3 event\(s\)/);
  });

  it('--dry-run lists and publishes nothing', async () => {
    const r = await replay(['--dry-run']);
    expect(r.code).toBe(0);
    expect(server.find('POST', PUBLISH)).toHaveLength(0);
    expect(r.lines.filter((l) => l.startsWith('would publish'))).toHaveLength(4);
  });

  it('retries a 503 publish with backoff, then succeeds', async () => {
    server.first('POST', PUBLISH, googleError(503, 'backendError', 'The service is currently unavailable.'));
    const r = await replay([]);
    expect(r.code).toBe(0);
    expect(r.sleeps).toEqual([500]);
    expect(published).toBe(4);
  });

  it('a denied publish fails every event of the batch with the reason, exit 1', async () => {
    server.first(
      'POST',
      PUBLISH,
      googleError(403, 'PERMISSION_DENIED', 'User not authorized to perform this action.'),
    );
    const r = await replay([]);
    expect(r.code).toBe(1);
    expect(r.sleeps).toEqual([]);
    expect(
      r.lines.filter((l) => /^failed: raw\/.*: publish failed: User not authorized/.test(l)),
    ).toHaveLength(3);
  });

  it('an object that is not a raw object is reported; the others are published', async () => {
    server.reset();
    serveBucket([OBJECTS[0]!, { ...OBJECTS[1]!, bytes: Buffer.from('{"hello":"world"}') }, OBJECTS[2]!]);
    server.on('POST', PUBLISH, { body: { messageIds: ['1', '2'] } });
    const r = await replay(['--json']);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.text) as { published: number; failed: { object: string; reason: string }[] };
    expect(summary.published).toBe(3);
    expect(summary.failed).toEqual([
      {
        object: OBJECTS[1]!.name,
        runId: 'coingecko_usd_20261205T000000Z',
        reason: expect.stringMatching(/^not a raw object: manifest/),
      },
    ]);
  });

  it('ends when the storage API does not answer', async () => {
    server.reset();
    server.on('GET', LIST, () => new Promise((done) => setTimeout(() => done({ body: {} }), 3_000)));
    const started = Date.now();
    const r = await replay(['--request-timeout', '0.3']);
    expect(r.code).toBe(1);
    expect(r.text).toMatch(
      /listing gs:\/\/acme-crypto-raw\/raw\/coingecko\/coins_markets\/ failed: no answer from .* within 0 s/,
    );
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('names the stack outputs it needs', async () => {
    const partial = join(dir, 'partial.json');
    writeFileSync(partial, JSON.stringify({ gcpProject: PROJECT }));
    const lines: string[] = [];
    const code = await cloudReplayCommand(['--outputs', partial], env(), { out: (l) => lines.push(l) });
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/stack outputs missing or invalid: rawBucket, eventsTopic/);
  });

  it.each([
    [['--from', 'monday'], /--from must be a UTC date/],
    [['--request-timeout', 'x'], /--request-timeout must be a positive number/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const r = await replay(args);
    expect(r.code).toBe(2);
    expect(r.text).toMatch(message);
  });
});
