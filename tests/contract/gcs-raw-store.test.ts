import { CRC32C, Storage } from '@google-cloud/storage';
import { GcsRawStore } from '../../functions/src/adapters/gcp/gcs-raw-store.js';
import { ExtractError } from '../../functions/src/extract/errors.js';
import { LoadError } from '../../functions/src/load/errors.js';
import { FakeGcpServer, googleError, parseMultipart, type FakeResponse } from '../support/fake-gcp-server.js';
import { rejection } from '../support/rejection.js';

/**
 * Contract tests of the GCS lake adapter at the HTTP level: the real @google-cloud/storage client
 * talks to a local fake, so the assertions are about the JSON API requests it really sends and how
 * the adapter reads each answer (ARCHITECTURE.md §4, §6).
 */

const BUCKET = 'crypto-lake';
const KEY = 'raw/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/coingecko_usd_20261121T050000Z.json';
const ENCODED_KEY = encodeURIComponent(KEY);
const OBJECT_PATH = `/storage/v1/b/${BUCKET}/o/${ENCODED_KEY}`;
const UPLOAD_PATH = `/upload/storage/v1/b/${BUCKET}/o`;

let server: FakeGcpServer;

beforeAll(async () => {
  server = await FakeGcpServer.start();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => server.reset());

/** The client's own retries are off so each test sees exactly one request per call. */
const storeAt = (apiEndpoint: string) =>
  new GcsRawStore(
    new Storage({ apiEndpoint, projectId: 'test', retryOptions: { autoRetry: false } }),
    BUCKET,
  );

/** The object resource GCS answers with; the client checks crc32c against what it sent. */
function objectResource(body: Buffer, generation: string): FakeResponse {
  const crc = new CRC32C();
  crc.update(body);
  return {
    body: {
      kind: 'storage#object',
      bucket: BUCKET,
      name: KEY,
      generation,
      metageneration: '1',
      size: String(body.length),
      crc32c: crc.toString(),
      contentType: 'application/json',
    },
  };
}

describe('GcsRawStore.createOnly', () => {
  const body = Buffer.from('{"manifest":{},"pages":[]}');

  it('uploads in one multipart request with ifGenerationMatch=0 and returns the new generation', async () => {
    server.once('POST', UPLOAD_PATH, objectResource(body, '1763701200123456'));

    const result = await storeAt(server.url).createOnly(KEY, body, 'application/json');

    expect(result).toEqual({
      created: true,
      ref: { bucket: BUCKET, key: KEY, generation: '1763701200123456' },
    });
    expect(server.requests).toHaveLength(1);
    const [upload] = server.requests;
    expect(upload!.query).toEqual({ uploadType: 'multipart', name: KEY, ifGenerationMatch: '0' });
    expect(upload!.headers['content-type']).toMatch(/^multipart\/related; boundary=/);
    const [metadata, media] = parseMultipart(upload!);
    expect(JSON.parse(metadata!.body.toString())).toMatchObject({ contentType: 'application/json' });
    expect(media!.headers['content-type']).toBe('application/json');
    expect(media!.body.equals(body)).toBe(true);
    // A custom endpoint means no Google credentials are looked up or sent.
    expect(upload!.headers.authorization).toBeUndefined();
    expect(server.unmatched).toEqual([]);
  });

  it('on 412 reads the existing generation and reports created:false without writing again', async () => {
    server
      .once(
        'POST',
        UPLOAD_PATH,
        googleError(412, 'conditionNotMet', 'At least one of the pre-conditions did not hold.'),
      )
      .once('GET', OBJECT_PATH, objectResource(Buffer.from('earlier bytes'), '1763701100000001'));

    const result = await storeAt(server.url).createOnly(KEY, body, 'application/json');

    expect(result).toEqual({
      created: false,
      ref: { bucket: BUCKET, key: KEY, generation: '1763701100000001' },
    });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST ${UPLOAD_PATH}`,
      `GET ${OBJECT_PATH}`,
    ]);
    expect(server.requests[1]!.query.generation).toBeUndefined();
    expect(server.find('DELETE', /.*/)).toEqual([]);
  });

  it('412 followed by 404 (the object vanished) is retryable', async () => {
    server
      .once('POST', UPLOAD_PATH, googleError(412, 'conditionNotMet', 'precondition failed'))
      .once('GET', OBJECT_PATH, googleError(404, 'notFound', 'No such object'));

    const error = await rejection(storeAt(server.url).createOnly(KEY, body, 'application/json'));

    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toMatchObject({ code: 'raw_object_vanished', retryable: true });
  });

  it.each([
    [429, 'rateLimitExceeded', 'gcs_write_rate_limited', true],
    [500, 'backendError', 'gcs_write_unavailable', true],
    [503, 'backendError', 'gcs_write_unavailable', true],
    [403, 'forbidden', 'gcs_write_access_denied', false],
    [404, 'notFound', 'gcs_write_bucket_not_found', false],
    [400, 'invalid', 'gcs_write_rejected', false],
  ])('classifies HTTP %i as an ExtractError (%s)', async (status, reason, code, retryable) => {
    server.once('POST', UPLOAD_PATH, googleError(status, reason, `answer ${status}`));

    const error = await rejection(storeAt(server.url).createOnly(KEY, body, 'application/json'));

    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toMatchObject({ stage: 'extract', code, retryable });
    expect(error.details).toMatchObject({ status });
  });

  it('classifies a refused connection as retryable', async () => {
    const closed = await FakeGcpServer.start();
    const url = closed.url;
    await closed.close();

    const error = await rejection(storeAt(url).createOnly(KEY, body, 'application/json'));

    expect(error).toMatchObject({ stage: 'extract', code: 'gcs_write_unreachable', retryable: true });
  });

  it("lets the client's own retry resend a create-only upload: the precondition makes it safe", async () => {
    server
      .once('POST', UPLOAD_PATH, googleError(503, 'backendError', 'try again'))
      .once('POST', UPLOAD_PATH, objectResource(body, '1763701200999999'));
    const storage = new Storage({
      apiEndpoint: server.url,
      projectId: 'test',
      // async-retry waits at least 1 s; maxRetryDelay (seconds) caps it there, keeping the test short.
      retryOptions: { autoRetry: true, maxRetries: 1, maxRetryDelay: 1, totalTimeout: 5 },
    });

    const result = await new GcsRawStore(storage, BUCKET).createOnly(KEY, body, 'application/json');

    expect(result.ref.generation).toBe('1763701200999999');
    const uploads = server.find('POST', UPLOAD_PATH);
    expect(uploads).toHaveLength(2);
    expect(uploads.every((u) => u.query.ifGenerationMatch === '0')).toBe(true);
  });
});

describe('GcsRawStore.head', () => {
  it('GETs the object metadata and returns its generation', async () => {
    server.once('GET', OBJECT_PATH, objectResource(Buffer.from('x'), '42'));

    await expect(storeAt(server.url).head(KEY)).resolves.toEqual({
      bucket: BUCKET,
      key: KEY,
      generation: '42',
    });
    expect(server.requests).toHaveLength(1);
  });

  it('returns undefined on 404', async () => {
    server.once('GET', OBJECT_PATH, googleError(404, 'notFound', 'No such object'));

    await expect(storeAt(server.url).head(KEY)).resolves.toBeUndefined();
  });

  it('classifies a 500 as a retryable ExtractError', async () => {
    server.once('GET', OBJECT_PATH, googleError(500, 'backendError', 'oops'));

    const error = await rejection(storeAt(server.url).head(KEY));
    expect(error).toBeInstanceOf(ExtractError);
    expect(error.retryable).toBe(true);
  });
});

describe('GcsRawStore.read', () => {
  const ref = { bucket: BUCKET, key: KEY, generation: '1763701200123456' };

  it('downloads the exact generation with alt=media', async () => {
    server.once('GET', OBJECT_PATH, {
      headers: { 'content-type': 'application/json' },
      body: '{"raw":true}',
    });

    const bytes = await storeAt(server.url).read(ref);

    expect(bytes.toString()).toBe('{"raw":true}');
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.query).toMatchObject({ alt: 'media', generation: ref.generation });
  });

  it('reads from the bucket the reference names', async () => {
    const other = `/storage/v1/b/other-lake/o/${ENCODED_KEY}`;
    server.once('GET', other, { body: 'x' });

    await storeAt(server.url).read({ ...ref, bucket: 'other-lake' });

    expect(server.requests[0]!.path).toBe(other);
  });

  it('404 with another live generation is a terminal raw_object_generation_mismatch', async () => {
    server
      .once('GET', OBJECT_PATH, googleError(404, 'notFound', 'No such object'))
      .once('GET', OBJECT_PATH, objectResource(Buffer.from('newer'), '1763701299999999'));

    const error = await rejection(storeAt(server.url).read(ref));

    expect(error).toBeInstanceOf(LoadError);
    expect(error).toMatchObject({ code: 'raw_object_generation_mismatch', retryable: false });
    expect(error.details).toMatchObject({ generation: ref.generation, liveGeneration: '1763701299999999' });
    expect(server.requests[1]!.query).toEqual({});
  });

  it('404 with no object at all is a terminal raw_object_missing', async () => {
    server.on('GET', OBJECT_PATH, googleError(404, 'notFound', 'No such object'));

    const error = await rejection(storeAt(server.url).read(ref));

    expect(error).toBeInstanceOf(LoadError);
    expect(error).toMatchObject({ stage: 'load', code: 'raw_object_missing', retryable: false });
  });

  it.each([
    [429, 'gcs_read_rate_limited', true],
    [502, 'gcs_read_unavailable', true],
    [403, 'gcs_read_access_denied', false],
  ])('classifies HTTP %i as a LoadError (%s)', async (status, code, retryable) => {
    server.once('GET', OBJECT_PATH, googleError(status, 'x', `answer ${status}`));

    const error = await rejection(storeAt(server.url).read(ref));

    expect(error).toBeInstanceOf(LoadError);
    expect(error).toMatchObject({ code, retryable });
  });
});
