import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { GcsRestReader } from '../../functions/src/adapters/gcp/gcs-rest-reader.js';
import { restClient } from '../../functions/src/adapters/gcp/google-rest.js';
import { Budget } from '../../functions/src/adapters/gcp/retry-budget.js';
import { parseConfig } from '../../functions/src/config.js';
import type { Clock } from '../../functions/src/core/ports.js';
import { gcpLoadDeps } from '../../functions/src/entry/load-function.js';
import { LoadError } from '../../functions/src/load/errors.js';
import {
  FakeGcpServer,
  googleError,
  installMetadataServer,
  type FakeResponse,
} from '../support/fake-gcp-server.js';
import { rejection } from '../support/rejection.js';

/**
 * The load function's lake read (ARCHITECTURE.md §4) at the HTTP level: the REST reader against a
 * local server speaking Cloud Storage's JSON API, so the request (path, generation, token) and the
 * reading of every answer are checked on the wire, with the error codes GcsRawStore.read has.
 * Nothing leaves 127.0.0.1.
 */
const BUCKET = 'crypto-lake';
const KEY = 'raw/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/coingecko_usd_20261121T050000Z.json';
const OBJECT_PATH = `/storage/v1/b/${BUCKET}/o/${encodeURIComponent(KEY)}`;
const ref = { bucket: BUCKET, key: KEY, generation: '1763701200123456' };
const BODY = Buffer.from('{"raw":true}');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const media = (body: Buffer, hash = `crc32c=AAAAAA==,md5=${md5(body)}`): FakeResponse => ({
  headers: { 'content-type': 'application/json', 'x-goog-hash': hash },
  body,
});

let server: FakeGcpServer;
const slept: number[] = [];
/** A clock whose sleeps take no time, so retries are counted, not waited for. */
const clock: Clock = {
  now: () => new Date(Date.parse('2026-11-21T05:00:00Z') + slept.reduce((a, b) => a + b, 0)),
  sleep: (ms) => {
    slept.push(ms);
    return Promise.resolve();
  },
};
const policy = { budgetMs: 60_000, baseDelayMs: 500, maxDelayMs: 20_000 };

beforeAll(async () => {
  server = await FakeGcpServer.start();
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  slept.length = 0;
});

const reader = (timeoutMs = 5_000) =>
  new GcsRestReader(
    restClient({ token: 'read-token', timeoutMs }),
    `${server.url}/storage/v1`,
    () => new Budget(clock, policy, () => 0.5),
  );

describe('GcsRestReader.read', () => {
  it('downloads the exact generation with alt=media and the bearer token', async () => {
    server.once('GET', OBJECT_PATH, media(BODY));

    const bytes = await reader().read(ref);

    expect(bytes.equals(BODY)).toBe(true);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.query).toEqual({ alt: 'media', generation: ref.generation });
    expect(server.requests[0]!.headers.authorization).toBe('Bearer read-token');
  });

  it('reads from the bucket the reference names', async () => {
    const other = `/storage/v1/b/other-lake/o/${encodeURIComponent(KEY)}`;
    server.once('GET', other, media(BODY));

    await reader().read({ ...ref, bucket: 'other-lake' });

    expect(server.requests[0]!.path).toBe(other);
  });

  it('404 with another live generation is a terminal raw_object_generation_mismatch', async () => {
    server.once('GET', OBJECT_PATH, googleError(404, 'notFound', 'No such object')).once('GET', OBJECT_PATH, {
      body: { kind: 'storage#object', name: KEY, generation: '1763701299999999' },
    });

    const error = await rejection(reader().read(ref));

    expect(error).toBeInstanceOf(LoadError);
    expect(error).toMatchObject({ code: 'raw_object_generation_mismatch', retryable: false });
    expect(error.details).toMatchObject({ generation: ref.generation, liveGeneration: '1763701299999999' });
    expect(server.requests[1]!.query).toEqual({});
    expect(slept).toEqual([]);
  });

  it('404 with no object at all is a terminal raw_object_missing', async () => {
    server.on('GET', OBJECT_PATH, googleError(404, 'notFound', 'No such object'));

    const error = await rejection(reader().read(ref));

    expect(error).toMatchObject({ stage: 'load', code: 'raw_object_missing', retryable: false });
  });

  it('403 is a terminal gcs_read_access_denied, at once', async () => {
    server.on('GET', OBJECT_PATH, googleError(403, 'forbidden', 'no storage.objects.get'));

    const error = await rejection(reader().read(ref));

    expect(error).toMatchObject({ code: 'gcs_read_access_denied', retryable: false });
    expect(error.message).toContain('no storage.objects.get');
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [429, 'gcs_read_rate_limited'],
    [503, 'gcs_read_unavailable'],
  ])('retries HTTP %i inside the budget, then reads', async (status) => {
    server.once('GET', OBJECT_PATH, googleError(status, 'x', `answer ${status}`));
    server.once('GET', OBJECT_PATH, googleError(status, 'x', `answer ${status}`));
    server.once('GET', OBJECT_PATH, media(BODY));

    await expect(reader().read(ref)).resolves.toEqual(BODY);
    expect(server.requests).toHaveLength(3);
    expect(slept).toHaveLength(2);
  });

  it.each([
    [429, 'gcs_read_rate_limited'],
    [503, 'gcs_read_unavailable'],
  ])('gives up on HTTP %i once the budget is spent, as a retryable %s', async (status, code) => {
    server.on('GET', OBJECT_PATH, googleError(status, 'x', `answer ${status}`));

    const error = await rejection(reader().read(ref));

    expect(error).toMatchObject({ code, retryable: true });
    expect(slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(policy.budgetMs);
  });

  it('refuses bytes that do not match the MD5 GCS sends, and reads them again', async () => {
    server.once('GET', OBJECT_PATH, media(Buffer.from('{"raw":tru'), `md5=${md5(BODY)}`));
    server.once('GET', OBJECT_PATH, media(BODY));

    await expect(reader().read(ref)).resolves.toEqual(BODY);
    expect(server.requests).toHaveLength(2);
  });

  it('reports damaged bytes that keep arriving as gcs_read_corrupt (retryable: the platform tries again)', async () => {
    server.on('GET', OBJECT_PATH, media(Buffer.from('x'), `md5=${md5(BODY)}`));

    const error = await rejection(reader().read(ref));

    expect(error).toMatchObject({ code: 'gcs_read_corrupt', retryable: true });
  });

  it('reads an object without an MD5 (a composed one) unchecked', async () => {
    server.once('GET', OBJECT_PATH, media(BODY, 'crc32c=AAAAAA=='));

    await expect(reader().read(ref)).resolves.toEqual(BODY);
  });

  it('times out a server that never answers, as a retryable unreachable read', async () => {
    server.on(
      'GET',
      OBJECT_PATH,
      () => new Promise<FakeResponse>((resolve) => setTimeout(() => resolve(media(BODY)), 2_000).unref()),
    );

    const error = await rejection(
      new GcsRestReader(
        restClient({ token: 't', timeoutMs: 100 }),
        `${server.url}/storage/v1`,
        () => new Budget(clock, { ...policy, budgetMs: 1 }),
      ).read(ref),
    );

    expect(error).toMatchObject({ code: 'gcs_read_unreachable', retryable: true });
  });
});

describe('the load function wiring (entry/load-function.ts)', () => {
  it("reads the lake with the BigQuery client's token, from the metadata server as on Cloud Run", async () => {
    installMetadataServer(server, 'function-token', 'test');
    server.once('GET', OBJECT_PATH, media(BODY));
    const config = parseConfig({
      GCP_PROJECT: 'test',
      RAW_BUCKET: BUCKET,
      EVENTS_TOPIC: 't',
      BQ_DATASET: 'd',
      BQ_LOCATION: 'EU',
    });
    // Google's endpoint, with credentials, but on the fake: what a deployed function does.
    const deployed = {
      ...config,
      gcp: { ...config.gcp!, storage: { baseUrl: `${server.url}/storage/v1`, authenticated: true } },
    };
    const before = process.env.GCE_METADATA_HOST;
    process.env.GCE_METADATA_HOST = server.url.replace('http://', '');
    try {
      const deps = await gcpLoadDeps(deployed);
      await expect(deps.lake.read(ref)).resolves.toEqual(BODY);
    } finally {
      if (before === undefined) delete process.env.GCE_METADATA_HOST;
      else process.env.GCE_METADATA_HOST = before;
    }
    expect(server.find('GET', OBJECT_PATH)[0]!.headers.authorization).toBe('Bearer function-token');
  });
});
