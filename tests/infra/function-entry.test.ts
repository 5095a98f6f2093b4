import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CRC32C } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bundleFunctions, type FunctionBundle } from '../../infra/bundle.js';
import { RunEventSchema, type RunEvent } from '../../functions/src/core/event.js';
import { rawObjectKey } from '../../functions/src/core/lake-layout.js';
import { decodeRawObject } from '../../functions/src/core/raw-object.js';
import { runIdentity } from '../../functions/src/core/run-identity.js';
import { opsRun } from '../../functions/src/schema/tables.js';
import { FakeBigQuery, jobResourceOf } from '../contract/fake-bigquery.js';
import { json, sequence, startScriptedServer, type ScriptedServer } from '../support/coingecko-stub.js';
import {
  FakeGcpServer,
  googleError,
  installMetadataServer,
  parseMultipart,
  type FakeResponse,
} from '../support/fake-gcp-server.js';
import { serveFunction, type ServedFunction } from './support/serve-function.js';

/**
 * The real functions/src/index.ts, bundled as it is deployed and served by the Functions Framework
 * in a child process (issue 8: the bundle test serves a stand-in). The Google client libraries in
 * the child talk to local fakes through the variables they honour: STORAGE_EMULATOR_HOST (a GCS
 * bucket that keeps objects), BIGQUERY_EMULATOR_HOST (the jobs API of the contract tests) and GCE_METADATA_HOST (the
 * metadata server that hands out the access token, as on Cloud Run); Pub/Sub's REST API is reached
 * through PUBSUB_API_ENDPOINT, with the token the Storage client's credentials give (pubsub-publisher.ts
 * says why REST). CoinGecko is a stub.
 * `extract` is called as Cloud Scheduler calls it; `load` gets the Pub/Sub push body of the very
 * message `extract` published. Every server listens on 127.0.0.1 and stops with the test.
 */
const PROJECT = 'test';
const BUCKET = 'crypto-lake';
const TOPIC = 'crypto-events';
const DATASET = 'crypto_market';
const SLOT = '2026-11-21T05:00:00Z';
const RUN_ID = 'coingecko_usd_20261121T050000Z';
const API_KEY = 'CG-entry/t3st+k3y';

const coins = [
  { id: 'bitcoin', symbol: 'btc', name: 'Bitcoin', current_price: 97000.5, market_cap: 1.9e12 },
  { id: 'ethereum', symbol: 'eth', name: 'Ethereum', current_price: 3600.25, market_cap: 4.3e11 },
  // A proxy echoing the key into the body: it must not reach the bucket.
  { id: 'tether', symbol: 'usdt', name: `Tether ${API_KEY}`, current_price: 1, market_cap: 1.2e11 },
];

/** A bucket that keeps objects: create-only uploads, metadata and media reads by generation. */
function installBucket(server: FakeGcpServer): Map<string, { bytes: Buffer; generation: string }> {
  const objects = new Map<string, { bytes: Buffer; generation: string }>();
  let nextGeneration = 1763701200000000;
  const resource = (key: string): FakeResponse => {
    const o = objects.get(key)!;
    const crc = new CRC32C();
    crc.update(o.bytes);
    return {
      body: {
        kind: 'storage#object',
        bucket: BUCKET,
        name: key,
        generation: o.generation,
        metageneration: '1',
        size: String(o.bytes.length),
        crc32c: crc.toString(),
        contentType: 'application/json',
      },
    };
  };
  server.on('POST', `/upload/storage/v1/b/${BUCKET}/o`, (req) => {
    const key = req.query.name!;
    if (req.query.ifGenerationMatch !== '0') return googleError(400, 'invalid', 'create-only expected');
    if (objects.has(key)) return googleError(412, 'conditionNotMet', 'Precondition Failed');
    objects.set(key, { bytes: parseMultipart(req)[1]!.body, generation: String(nextGeneration++) });
    return resource(key);
  });
  // With STORAGE_EMULATOR_HOST the JSON API is served from the root (`/b/...`), as emulators do.
  server.on('GET', new RegExp(`^(/storage/v1)?/b/${BUCKET}/o/[^/]+$`), (req) => {
    const key = decodeURIComponent(req.path.split('/').pop()!);
    const o = objects.get(key);
    if (o === undefined || (req.query.generation !== undefined && req.query.generation !== o.generation)) {
      return googleError(404, 'notFound', 'No such object');
    }
    return req.query.alt === 'media'
      ? {
          headers: {
            'content-type': 'application/json',
            'x-goog-hash': `md5=${createHash('md5').update(o.bytes).digest('base64')}`,
          },
          body: o.bytes,
        }
      : resource(key);
  });
  return objects;
}

/** The dataset Pulumi would have created, for the load function's schema check. */
function installDataset(server: FakeGcpServer): void {
  const base = `/bigquery/v2/projects/${PROJECT}/datasets/${DATASET}`;
  server.on('GET', base, { body: { id: `${PROJECT}:${DATASET}`, location: 'EU' } });
  server.on('GET', `${base}/tables`, {
    body: {
      tables: ['fact_market_snapshot', 'dim_asset', 'dim_date', 'ops_run', 'ops_rejected_record'].map(
        (t) => ({
          tableReference: { projectId: PROJECT, datasetId: DATASET, tableId: t },
        }),
      ),
    },
  });
}

interface PublishedMessage {
  data: string;
  attributes: Record<string, string>;
}

/** Pub/Sub's topics.publish on the fake: keeps every call (path, token, messages), answers ids. */
function installPublisher(
  server: FakeGcpServer,
): { topic: string; authorization: string | undefined; messages: PublishedMessage[] }[] {
  const received: { topic: string; authorization: string | undefined; messages: PublishedMessage[] }[] = [];
  server.on('POST', /^\/v1\/projects\/[^/]+\/topics\/[^/:]+:publish$/, (req) => {
    const { messages } = JSON.parse(req.body.toString('utf8')) as { messages: PublishedMessage[] };
    const topic = req.path.slice('/v1/'.length, -':publish'.length);
    received.push({ topic, authorization: req.headers.authorization, messages });
    return { body: { messageIds: messages.map((_, i) => `msg-${received.length}-${i}`) } };
  });
  return received;
}

let bundle: FunctionBundle;
let bundleRoot: string;
let gcp: FakeGcpServer;
let bigquery: FakeBigQuery;
let objects: Map<string, { bytes: Buffer; generation: string }>;
let published: ReturnType<typeof installPublisher>;
let coingecko: ScriptedServer;
const served: ServedFunction[] = [];

beforeAll(async () => {
  bundleRoot = mkdtempSync(join(tmpdir(), 'function-entry-'));
  bundle = await bundleFunctions({ outDir: join(bundleRoot, 'out') });
  gcp = await FakeGcpServer.start();
  objects = installBucket(gcp);
  installMetadataServer(gcp, 'local-test-token', PROJECT);
  installDataset(gcp);
  bigquery = new FakeBigQuery(gcp, PROJECT, 'EU');
  bigquery.install();
  published = installPublisher(gcp);
  coingecko = await startScriptedServer(sequence(json(coins)));
}, 60_000);

afterAll(async () => {
  for (const s of served) await s.stop();
  await coingecko?.close();
  await gcp?.close();
  rmSync(bundleRoot, { recursive: true, force: true });
});

/** What Pulumi sets on both functions, pointed at the fakes. */
const environment = (): Record<string, string> => ({
  PIPELINE_ENGINE: 'gcp',
  GCP_PROJECT: PROJECT,
  RAW_BUCKET: BUCKET,
  EVENTS_TOPIC: TOPIC,
  BQ_DATASET: DATASET,
  BQ_LOCATION: 'EU',
  COINGECKO_PLAN: 'demo',
  COINGECKO_API_KEY: API_KEY,
  COINGECKO_BASE_URL: coingecko.url,
  COIN_LIMIT: '3',
  PER_PAGE: '3',
  RETRY_BUDGET_SECONDS: '20',
  STORAGE_EMULATOR_HOST: gcp.url,
  BIGQUERY_EMULATOR_HOST: gcp.url,
  PUBSUB_API_ENDPOINT: gcp.url,
  GCE_METADATA_HOST: gcp.url.replace('http://', ''),
  NODE_ENV: 'test',
});

const serve = async (target: string) => {
  const s = await serveFunction(bundle.dir, target, environment());
  served.push(s);
  return s;
};

describe('the real function entry, bundled and served by the Functions Framework', () => {
  let event: RunEvent;
  let message: PublishedMessage;

  it('extract, called by Cloud Scheduler, writes the raw object create-only and publishes its pointer', async () => {
    const extract = await serve('extract');
    const res = await fetch(`${extract.url}/`, {
      method: 'POST',
      headers: { 'x-cloudscheduler-scheduletime': SLOT, 'user-agent': 'Google-Cloud-Scheduler' },
    });
    const summary = (await res.json()) as Record<string, unknown>;
    expect({ status: res.status, summary }).toMatchObject({
      status: 200,
      summary: { status: 'extracted', runId: RUN_ID, records: 3, pages: 1, messageId: 'msg-1-0' },
    });
    expect(coingecko.requests[0]!.headers['x-cg-demo-api-key']).toBe(API_KEY);

    const key = rawObjectKey(runIdentity(new Date(SLOT), 'usd', 15));
    const stored = objects.get(key)!;
    expect(stored).toBeDefined();
    const raw = decodeRawObject(stored.bytes);
    expect(raw.manifest).toMatchObject({ runId: RUN_ID, recordCount: 3 });
    // Redaction is wired into the deployed extract: the echoed key never reaches the bucket.
    expect(stored.bytes.toString()).not.toContain(API_KEY);
    expect(stored.bytes.toString()).toContain('Tether [redacted]');

    expect(published).toHaveLength(1);
    expect(published[0]!.topic).toBe(`projects/${PROJECT}/topics/${TOPIC}`);
    // The function's service account token (from the metadata server), as Pub/Sub requires.
    expect(published[0]!.authorization).toBe('Bearer local-test-token');
    message = published[0]!.messages[0]!;
    event = RunEventSchema.parse(JSON.parse(Buffer.from(message.data, 'base64').toString('utf8')));
    expect(event).toMatchObject({
      kind: 'raw_snapshot',
      runId: RUN_ID,
      bucket: BUCKET,
      object: key,
      generation: stored.generation,
    });
  }, 60_000);

  it('extract, called again for the same slot, writes nothing and publishes the pointer again', async () => {
    const [extract] = served;
    const res = await fetch(`${extract!.url}/`, {
      method: 'POST',
      headers: { 'x-cloudscheduler-scheduletime': SLOT },
    });
    expect(await res.json()).toMatchObject({ status: 'already_extracted', runId: RUN_ID });
    expect(objects.size).toBe(1);
    expect(published).toHaveLength(2);
  }, 30_000);

  it('load, given the Pub/Sub push of that message, stages the rows and runs merge_run.sql', async () => {
    expect(event).toBeDefined();
    bigquery.results = (job) => {
      if (job.id.startsWith('merge_')) {
        return {
          fields: [
            { name: 'fact_rows_inserted', type: 'INTEGER' },
            { name: 'asset_versions_inserted', type: 'INTEGER' },
          ],
          rows: [['3', '3']],
        };
      }
      if (job.id.startsWith('get_run_')) {
        const run: Record<string, string | null> = { run_id: RUN_ID, status: 'loaded', records_loaded: '3' };
        return {
          fields: opsRun.columns.map((c) => ({
            name: c.name,
            type: c.type === 'INT64' ? 'INTEGER' : c.type,
          })),
          rows: [opsRun.columns.map((c) => run[c.name] ?? null)],
        };
      }
      return { fields: [], rows: [] };
    };
    const load = await serve('load');
    const before = gcp.requests.length;
    const push = {
      message: {
        data: message.data,
        attributes: message.attributes,
        messageId: 'msg-1-0',
        message_id: 'msg-1-0',
        publishTime: '2026-11-21T05:00:03.000Z',
        publish_time: '2026-11-21T05:00:03.000Z',
      },
      subscription: `projects/${PROJECT}/subscriptions/${TOPIC}-to-load`,
    };
    const res = await fetch(`${load.url}/projects/${PROJECT}/topics/${TOPIC}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(push),
    });
    expect({ status: res.status, output: res.status === 204 ? '' : load.output() }).toEqual({
      status: 204,
      output: '',
    });

    // The raw object was read over the JSON API at the event's generation (an emulator: no token).
    const reads = gcp.requests
      .slice(before)
      .filter((r) => r.method === 'GET' && r.path.includes(`/b/${BUCKET}/o/`) && r.query.alt === 'media');
    expect(reads.map((r) => r.query.generation)).toEqual([event.generation]);
    const staged = [...bigquery.jobs.values()].filter((j) => j.id.startsWith(`load_${RUN_ID}_fact_`));
    expect(staged).toHaveLength(1);
    const factRows = staged[0]!
      .data!.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { coin_id: string });
    expect(factRows.map((r) => r.coin_id)).toEqual(['bitcoin', 'ethereum', 'tether']);
    const merge = [...bigquery.jobs.values()].find((j) => j.id.startsWith(`merge_${RUN_ID}_`))!;
    const query = (merge.configuration.query ?? {}) as { query: string; queryParameters: { name: string }[] };
    expect(query.query).toContain(`merge \`${PROJECT}\`.\`${DATASET}\`.fact_market_snapshot as t`);
    expect(query.query).toContain(`\`${PROJECT}\`.\`${DATASET}\`.\`_staging_${RUN_ID}_fact\``);
    expect(query.queryParameters.map((p) => p.name)).toContain('run_id');
    const inserts = gcp.find('POST', `/bigquery/v2/projects/${PROJECT}/jobs`);
    expect(inserts.length).toBeGreaterThan(0);
    expect(inserts.every((r) => r.headers.authorization === 'Bearer local-test-token')).toBe(true);
    expect(jobResourceOf(inserts[0]!)).toMatchObject({ jobReference: { location: 'EU' } });
    expect(gcp.unmatched.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  }, 60_000);
});
