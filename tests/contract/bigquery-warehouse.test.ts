import { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import {
  classifyJobFailure,
  BigQueryWarehouse,
} from '../../functions/src/adapters/gcp/bigquery-warehouse.js';
import type { Clock } from '../../functions/src/core/ports.js';
import type { StarBatch } from '../../functions/src/core/warehouse.js';
import { LoadError } from '../../functions/src/load/errors.js';
import { bigQuerySchema, SQL_PARAMETERS } from '../../functions/src/schema/bigquery-schema.js';
import {
  dimAsset,
  dimDate,
  factMarketSnapshot,
  MARKET_NUMBER_FIELDS,
  opsQualityCheck,
  opsRejectedRecord,
  opsRun,
  TABLES,
  type FactRow,
  type RunRow,
  type TableDef,
} from '../../functions/src/schema/tables.js';
import { FakeGcpServer, googleError, parseMultipart } from '../support/fake-gcp-server.js';
import { FakeBigQuery, jobIdOf, jobResourceOf, type FakeJob, type QueryResult } from './fake-bigquery.js';
import { rejection } from '../support/rejection.js';

/**
 * Contract tests of the BigQuery warehouse at the HTTP level (ARCHITECTURE.md §4, §6): the real
 * @google-cloud/bigquery client supplies credentials and endpoint, a fake BigQuery on 127.0.0.1
 * holds jobs by id. Asserted: the exact REST calls (upload and query jobs, ids, location,
 * parameters), what a 409 on a job id leads to, and how each failure is classified.
 */

const RUN_ID = 'coingecko_usd_20261121T050000Z';
const SLOT = new Date('2026-11-21T05:00:00.000Z');
const START = new Date('2026-11-21T05:01:00.000Z');
const TTL = 2 * 24 * 3600_000;
const BUDGET = 60_000;

let server: FakeGcpServer;
let fake: FakeBigQuery;
let clock: FakeClock;

/** Virtual time: sleeping advances it at once, so backoff and polling cost nothing. */
class FakeClock implements Clock {
  slept: number[] = [];
  constructor(private t: number) {}
  now(): Date {
    return new Date(this.t);
  }
  async sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.t += ms;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A fixed access token: the client's auth path runs for real, without any network. */
function authClient(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: 'test-token', expiry_date: Date.now() + 3_600_000 });
  return client;
}

function warehouse(apiEndpoint = server.url, budgetMs = BUDGET): BigQueryWarehouse {
  const bigquery = new BigQuery({ apiEndpoint, projectId: 'test', authClient: authClient() });
  return new BigQueryWarehouse(bigquery, {
    project: 'test',
    dataset: 'market',
    location: 'EU',
    clock,
    random: () => 0.5,
    retry: { budgetMs },
    stagingTtlMs: TTL,
  });
}

beforeAll(async () => {
  server = await FakeGcpServer.start();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  clock = new FakeClock(START.getTime());
  fake = new FakeBigQuery(server);
  fake.results = defaultResults;
  fake.install();
});
afterEach(() => {
  expect(server.unmatched).toEqual([]);
});

function fact(coin: string, assetKey: number, loadedAt: Date): FactRow {
  const numbers = Object.fromEntries(MARKET_NUMBER_FIELDS.map((f, i) => [f, i + 0.5])) as Record<
    (typeof MARKET_NUMBER_FIELDS)[number],
    number | null
  >;
  return {
    snapshot_date: '2026-11-21',
    date_key: 20261121,
    asset_key: assetKey,
    coin_id: coin,
    vs_currency: 'usd',
    slot_ts: SLOT,
    last_updated: new Date('2026-11-21T04:59:30.000Z'),
    market_cap_rank: 1,
    ...numbers,
    current_price: 0.000000001,
    max_supply: null,
    ath_date: new Date('2021-11-10T14:24:11.849Z'),
    atl_date: null,
    roi_times: null,
    roi_currency: null,
    roi_percentage: null,
    run_id: RUN_ID,
    loaded_at: loadedAt,
  };
}

/** One run's batch; `loadedAt` varies between deliveries exactly as in the real load stage. */
function batch(loadedAt = START): StarBatch {
  return {
    runId: RUN_ID,
    source: 'coingecko',
    vsCurrency: 'usd',
    slot: SLOT,
    raw: {
      bucket: 'lake',
      key: `raw/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/${RUN_ID}.json`,
      generation: '1763701200123456',
    },
    facts: [fact('bitcoin', 111, loadedAt), fact('ethereum', 222, loadedAt)],
    assetCandidates: [
      {
        asset_version_key: 333,
        asset_key: 111,
        coin_id: 'bitcoin',
        symbol: 'btc',
        name: 'Bitcoin',
        image_url: null,
        attributes_hash: 'abc',
        valid_from: SLOT,
        run_id: RUN_ID,
        loaded_at: loadedAt,
      },
    ],
    dates: [
      {
        date_key: 20261121,
        date: '2026-11-21',
        year: 2026,
        quarter: 4,
        month: 11,
        month_name: 'November',
        day_of_month: 21,
        day_of_week: 6,
        day_name: 'Saturday',
        iso_year: 2026,
        iso_week: 47,
        is_weekend: true,
      },
    ],
    rejected: [],
    counts: { recordsIn: 3, rejected: 1, duplicates: 1 },
    expectedRecords: 3,
    loadStartedAt: loadedAt,
  };
}

const apiFields = (table: TableDef) =>
  table.columns.map((c) => ({
    name: c.name,
    type: {
      STRING: 'STRING',
      INT64: 'INTEGER',
      FLOAT64: 'FLOAT',
      BOOL: 'BOOLEAN',
      DATE: 'DATE',
      TIMESTAMP: 'TIMESTAMP',
    }[c.type],
  }));
/** One failed check, as the quality job's last statement returns it. */
const QUALITY_ROW: (string | null)[] = [
  RUN_ID,
  'record_count',
  'warning',
  'fail',
  '2',
  '3',
  '2 of 3 expected coin(s) loaded',
  String(START.getTime() * 1000 + 9_000_000),
];

const RUN_FIELDS = apiFields(opsRun);
const micros = (d: Date) => String(d.getTime() * 1000);
const LOADED_RUN_ROW: (string | null)[] = opsRun.columns.map((c) => {
  const values: Record<string, string | null> = {
    run_id: RUN_ID,
    source: 'coingecko',
    vs_currency: 'usd',
    slot_ts: micros(SLOT),
    status: 'loaded',
    raw_object: 'raw/x.json',
    raw_generation: '1763701200123456',
    records_in: '3',
    records_loaded: '2',
    records_rejected: '1',
    records_duplicate: '1',
    asset_versions_new: '1',
    load_started_at: micros(START),
    load_finished_at: micros(new Date(START.getTime() + 9000)),
    error_code: null,
    error_message: null,
    updated_at: micros(new Date(START.getTime() + 9000)),
  };
  return values[c.name] ?? null;
});

function defaultResults(job: FakeJob): QueryResult {
  if (job.id.startsWith('merge_')) {
    return {
      fields: [
        { name: 'fact_rows_inserted', type: 'INTEGER' },
        { name: 'asset_versions_inserted', type: 'INTEGER' },
      ],
      rows: [['2', '1']],
    };
  }
  if (job.id.startsWith('get_run_')) return { fields: RUN_FIELDS, rows: [LOADED_RUN_ROW] };
  if (job.id.startsWith('quality_')) return { fields: apiFields(opsQualityCheck), rows: [QUALITY_ROW] };
  return { fields: [], rows: [] };
}

const BASE = '/bigquery/v2/projects/test';
const UPLOAD = '/upload/bigquery/v2/projects/test/jobs';
const MERGE_ID = new RegExp(`^merge_${RUN_ID}_[0-9a-f]{16}$`);
const queryJobs = (prefix: string) => fake.insertsOf(new RegExp(`^${prefix}`));

describe('BigQueryWarehouse.loadBatch: the REST calls', () => {
  it('uploads each staging set as NDJSON in a load job with a deterministic id and the location', async () => {
    await warehouse().loadBatch(batch());

    const uploads = server.find('POST', UPLOAD);
    expect(uploads).toHaveLength(4);
    const bySuffix = new Map(uploads.map((u) => [jobIdOf(u)!.split('_')[4], u]));
    const expected = [
      ['fact', factMarketSnapshot],
      ['asset', dimAsset],
      ['date', dimDate],
      ['rejected', opsRejectedRecord],
    ] as const;
    for (const [suffix, table] of expected) {
      const upload = bySuffix.get(suffix)!;
      expect(upload.query).toEqual({ uploadType: 'multipart' });
      expect(upload.headers.authorization).toBe('Bearer test-token');
      const [meta, media] = parseMultipart(upload);
      expect(meta!.headers['content-type']).toMatch(/^application\/json/);
      expect(media!.headers['content-type']).toBe('application/octet-stream');
      const resource = JSON.parse(meta!.body.toString());
      expect(resource.jobReference).toEqual({
        projectId: 'test',
        jobId: expect.stringMatching(new RegExp(`^load_${RUN_ID}_${suffix}_[0-9a-f]{16}$`)),
        location: 'EU',
      });
      expect(resource.configuration.load).toEqual({
        destinationTable: { projectId: 'test', datasetId: 'market', tableId: `_staging_${RUN_ID}_${suffix}` },
        sourceFormat: 'NEWLINE_DELIMITED_JSON',
        schema: { fields: bigQuerySchema(table) },
        writeDisposition: 'WRITE_TRUNCATE',
        createDisposition: 'CREATE_IF_NEEDED',
        ignoreUnknownValues: false,
        maxBadRecords: 0,
      });
    }
  });

  it('writes NDJSON that BigQuery reads: ISO timestamps, YYYY-MM-DD dates, numbers, nulls, column order', async () => {
    await warehouse().loadBatch(batch());

    const factUpload = server.find('POST', UPLOAD).find((u) => jobIdOf(u)!.includes('_fact_'))!;
    const text = parseMultipart(factUpload)[1]!.body.toString();
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(text.endsWith('\n')).toBe(true);
    const first = JSON.parse(lines[0]!);
    expect(Object.keys(first)).toEqual(factMarketSnapshot.columns.map((c) => c.name));
    expect(first).toMatchObject({
      snapshot_date: '2026-11-21',
      date_key: 20261121,
      asset_key: 111,
      slot_ts: '2026-11-21T05:00:00.000Z',
      ath_date: '2021-11-10T14:24:11.849Z',
      current_price: 1e-9,
      max_supply: null,
      loaded_at: START.toISOString(),
    });
    const dateUpload = server.find('POST', UPLOAD).find((u) => jobIdOf(u)!.includes('_date_'))!;
    expect(JSON.parse(parseMultipart(dateUpload)[1]!.body.toString())).toMatchObject({
      is_weekend: true,
      date: '2026-11-21',
    });
    // An empty staging set is still loaded: WRITE_TRUNCATE then empties what a previous delivery left.
    const rejectedUpload = server.find('POST', UPLOAD).find((u) => jobIdOf(u)!.includes('_rejected_'))!;
    expect(parseMultipart(rejectedUpload)[1]!.body.toString()).toBe('');
  });

  it('sets each staging table to expire after the TTL once it is loaded', async () => {
    await warehouse().loadBatch(batch());

    const patches = server.find('PATCH', /\/tables\//);
    expect(patches.map((p) => p.path).sort()).toEqual(
      ['asset', 'date', 'fact', 'rejected'].map(
        (s) => `${BASE}/datasets/market/tables/_staging_${RUN_ID}_${s}`,
      ),
    );
    for (const p of patches) {
      expect(JSON.parse(p.body.toString())).toEqual({ expirationTime: String(START.getTime() + TTL) });
    }
  });

  it('runs merge_run.sql as a query job with named, typed parameters and useLegacySql:false', async () => {
    const outcome = await warehouse().loadBatch(batch());

    const [insert] = fake.insertsOf(MERGE_ID);
    expect(insert!.path).toBe(`${BASE}/jobs`);
    const resource = jobResourceOf(insert!) as {
      jobReference: unknown;
      configuration: { query: Record<string, unknown>; labels: unknown };
    };
    expect(resource.jobReference).toEqual({
      projectId: 'test',
      jobId: expect.stringMatching(MERGE_ID),
      location: 'EU',
    });
    const query = resource.configuration.query;
    expect(query.useLegacySql).toBe(false);
    expect(query.parameterMode).toBe('NAMED');
    expect(query.query).toContain(`\`test\`.\`market\`.\`_staging_${RUN_ID}_fact\``);
    expect(query.query).toContain(`\`test\`.\`market\`.\`_staging_${RUN_ID}_rejected\``);
    expect(query.query).toContain('merge `test`.`market`.fact_market_snapshot');
    expect(query.query).not.toContain('{{');
    const params = query.queryParameters as {
      name: string;
      parameterType: { type: string };
      parameterValue: { value?: string };
    }[];
    expect(params.map((p) => [p.name, p.parameterType.type])).toEqual(
      Object.entries(SQL_PARAMETERS['load/merge_run.sql']),
    );
    const value = Object.fromEntries(params.map((p) => [p.name, p.parameterValue.value]));
    expect(value).toEqual({
      run_id: RUN_ID,
      source: 'coingecko',
      vs_currency: 'usd',
      slot_ts: '2026-11-21T05:00:00.000Z',
      snapshot_date: '2026-11-21',
      raw_object: `raw/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/${RUN_ID}.json`,
      raw_generation: '1763701200123456',
      records_in: '3',
      records_rejected: '1',
      records_duplicate: '1',
      load_started_at: START.toISOString(),
    });

    // The script's last SELECT is read from the merge job; the run record comes from get_run.sql.
    const mergeId = jobIdOf(insert!)!;
    const results = server.find('GET', `${BASE}/queries/${mergeId}`);
    expect(results).toHaveLength(1);
    expect(results[0]!.query).toMatchObject({ location: 'EU', 'formatOptions.useInt64Timestamp': 'true' });
    expect(outcome.factRowsInserted).toBe(2);
    expect(outcome.assetVersionsInserted).toBe(1);
    expect(outcome.run).toMatchObject({ run_id: RUN_ID, status: 'loaded', records_loaded: 2, slot_ts: SLOT });
    expect(outcome.run.error_code).toBeNull();

    // Loads first, then the merge, then the read of the run record.
    const order = server.requests.filter((r) => r.method === 'POST').map((r) => jobIdOf(r)!.split('_')[0]);
    expect(order).toEqual(['load', 'load', 'load', 'load', 'merge', 'get', 'quality']);
  });

  it('then runs the quality checks as one deterministic query job and returns their rows', async () => {
    const outcome = await warehouse().loadBatch(batch());

    const quality = server.requests.filter((r) => r.method === 'POST' && jobIdOf(r)!.startsWith('quality_'));
    expect(quality).toHaveLength(1);
    expect(jobIdOf(quality[0]!)).toMatch(new RegExp(`^quality_${RUN_ID}_[0-9a-f]+$`));
    const query = (jobResourceOf(quality[0]!) as { configuration: { query: Record<string, unknown> } })
      .configuration.query;
    expect(query.query).toContain('merge `test`.`market`.ops_quality_check');
    expect(query.query).not.toContain('{{');
    const params = query.queryParameters as { name: string; parameterValue: { value?: string } }[];
    expect(Object.fromEntries(params.map((p) => [p.name, p.parameterValue.value]))).toEqual({
      run_id: RUN_ID,
      snapshot_date: '2026-11-21',
      expected_records: '3',
      records_in: '3',
      records_rejected: '1',
      freshness_max_seconds: '3600',
    });
    expect(outcome.qualityChecks).toEqual([
      {
        run_id: RUN_ID,
        check_name: 'record_count',
        severity: 'warning',
        status: 'fail',
        observed: 2,
        expected: 3,
        message: '2 of 3 expected coin(s) loaded',
        checked_at: new Date(START.getTime() + 9000),
      },
    ]);

    // A duplicate delivery meets the same job id (409) and reads the rows that job recorded.
    const again = await warehouse().loadBatch(batch());
    const ids = server.requests.filter((r) => r.method === 'POST' && jobIdOf(r)!.startsWith('quality_'));
    expect(new Set(ids.map((r) => jobIdOf(r)))).toEqual(new Set([jobIdOf(quality[0]!)]));
    expect(again.qualityChecks).toEqual(outcome.qualityChecks);
    // The first delivery's job recorded the checks; the duplicate only read them.
    expect(outcome.qualityChecksRecorded).toBe(true);
    expect(again.qualityChecksRecorded).toBe(false);
  });

  it('records the checks on redelivery when the quality job failed after the merge committed', async () => {
    // The first delivery: the merge commits, the quality job fails, and a budget with no room
    // for a retry ends the call as a spent budget does (the function fails; Pub/Sub redelivers).
    fake.plan(/^quality_/, { errorResult: { reason: 'backendError', message: 'Backend error' } });
    const first = await rejection(warehouse(server.url, 100).loadBatch(batch()));
    expect(first).toMatchObject({ code: 'bigquery_backend_error', retryable: true });
    const merges = () => [...fake.jobs.keys()].filter((id) => MERGE_ID.test(id));
    expect(merges()).toHaveLength(1);
    const [failedQuality] = fake.insertsOf(/^quality_/).map((r) => jobIdOf(r)!);

    // The redelivery (a later load time, as in the load stage) adopts the merge job, which
    // succeeded, and runs the checks under the next id of the failed job's chain.
    const again = await warehouse().loadBatch(batch(new Date(START.getTime() + 600_000)));

    expect(merges()).toHaveLength(1);
    expect(fake.insertsOf(MERGE_ID)).toHaveLength(2);
    expect(fake.insertsOf(/^quality_/).map((r) => jobIdOf(r))).toEqual([
      failedQuality,
      failedQuality,
      `${failedQuality}_2`,
    ]);
    expect(again).toMatchObject({
      factRowsInserted: 0,
      assetVersionsInserted: 0,
      qualityChecksRecorded: true,
    });
    expect(again.qualityChecks.map((c) => c.check_name)).toEqual(['record_count']);
  });

  it('polls jobs.get with the location until a running job is DONE', async () => {
    fake.plan(MERGE_ID, { runningPolls: 3 });

    await warehouse().loadBatch(batch());

    const mergeId = jobIdOf(fake.insertsOf(MERGE_ID)[0]!)!;
    const polls = server.find('GET', `${BASE}/jobs/${mergeId}`);
    expect(polls).toHaveLength(3);
    expect(polls.every((p) => p.query.location === 'EU')).toBe(true);
    // 500 ms, growing by half each time.
    expect(clock.slept.slice(0, 3)).toEqual([500, 750, 1125]);
  });

  it('refuses a row that BigQuery would reject, before any request', async () => {
    const bad = batch();
    bad.facts[0]!.market_cap = Number.NaN;

    const error = await rejection(warehouse().loadBatch(bad));

    expect(error).toBeInstanceOf(LoadError);
    expect(error).toMatchObject({ code: 'staging_row_invalid', retryable: false });
    expect(server.requests).toEqual([]);
  });
});

describe('BigQueryWarehouse.loadBatch: 409 on a job id means "look at that job"', () => {
  it('a duplicate delivery finds the succeeded merge job and does not run it again', async () => {
    await warehouse().loadBatch(batch(START));
    const mergeId = jobIdOf(fake.insertsOf(MERGE_ID)[0]!)!;
    server.requests.length = 0;

    // The redelivery computes new load times: new load job ids, but the same merge job id.
    const later = new Date(START.getTime() + 600_000);
    const outcome = await warehouse().loadBatch(batch(later));

    const merges = fake.insertsOf(MERGE_ID);
    expect(merges.map(jobIdOf)).toEqual([mergeId]);
    expect(server.find('GET', `${BASE}/jobs/${mergeId}`)).toHaveLength(1);
    expect(server.find('GET', `${BASE}/queries/${mergeId}`)).toEqual([]);
    expect(outcome).toMatchObject({
      factRowsInserted: 0,
      assetVersionsInserted: 0,
      run: { status: 'loaded' },
    });
    expect(server.find('POST', UPLOAD)).toHaveLength(4);
  });

  it('a 409 on an earlier failed job is not success: the next id of the chain runs', async () => {
    fake.plan(MERGE_ID, {
      errorResult: { reason: 'invalidQuery', message: 'Syntax error: Unexpected keyword' },
    });
    const first = await rejection(warehouse().loadBatch(batch()));
    expect(first).toMatchObject({ code: 'bigquery_invalid_query', retryable: false });
    const mergeId = jobIdOf(fake.insertsOf(MERGE_ID)[0]!)!;

    const outcome = await warehouse().loadBatch(batch(new Date(START.getTime() + 60_000)));

    expect(fake.insertsOf(new RegExp(`^${mergeId}`)).map(jobIdOf)).toEqual([
      mergeId,
      mergeId,
      `${mergeId}_2`,
    ]);
    expect(outcome.factRowsInserted).toBe(2);
  });

  it('a 409 on a job that is still running waits for it', async () => {
    await warehouse().loadBatch(batch(START));
    const mergeId = jobIdOf(fake.insertsOf(MERGE_ID)[0]!)!;
    fake.jobs.get(mergeId)!.runningPolls = 3;

    const outcome = await warehouse().loadBatch(batch(new Date(START.getTime() + 1000)));

    // The GET after the 409 and two more polls, the last one DONE.
    expect(server.find('GET', `${BASE}/jobs/${mergeId}`)).toHaveLength(3);
    expect(outcome.factRowsInserted).toBe(0);
  });

  it('a 409 whose job cannot be read yet (404) is retried, not taken for a missing dataset', async () => {
    await warehouse().loadBatch(batch(START));
    const mergeId = jobIdOf(fake.insertsOf(MERGE_ID)[0]!)!;
    server.first(
      'GET',
      `${BASE}/jobs/${mergeId}`,
      googleError(404, 'notFound', `Not found: Job test:EU.${mergeId}`),
    );

    const outcome = await warehouse().loadBatch(batch(new Date(START.getTime() + 1000)));

    expect(fake.insertsOf(MERGE_ID).map(jobIdOf)).toEqual([mergeId, mergeId, mergeId]);
    expect(outcome.factRowsInserted).toBe(0);
  });

  it("a lost insert response (5xx, job created anyway) is adopted on retry as this call's own job", async () => {
    fake.plan(MERGE_ID, {
      insertErrors: [googleError(503, 'backendError', 'Backend error')],
      createdDespiteError: true,
    });

    const outcome = await warehouse().loadBatch(batch());

    const merges = fake.insertsOf(MERGE_ID);
    expect(merges).toHaveLength(2);
    expect(jobIdOf(merges[0]!)).toBe(jobIdOf(merges[1]!));
    // Its own job: the counts are read from its results.
    expect(outcome.factRowsInserted).toBe(2);
  });
});

describe('BigQueryWarehouse: retries and classification', () => {
  it.each([
    ['429', googleError(429, 'rateLimitExceeded', 'Exceeded rate limits')],
    ['500', googleError(500, 'backendError', 'Backend error')],
    ['503', googleError(503, 'backendError', 'Service unavailable')],
    [
      '403 rateLimitExceeded',
      googleError(403, 'rateLimitExceeded', 'Exceeded rate limits: too many api requests'),
    ],
  ])('retries a job insert answered %s, with the same job id', async (_name, answer) => {
    fake.plan(MERGE_ID, { insertErrors: [answer, answer] });

    await warehouse().loadBatch(batch());

    const ids = fake.insertsOf(MERGE_ID).map(jobIdOf);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(clock.slept.filter((ms) => ms > 0).length).toBeGreaterThanOrEqual(2);
  });

  it.each([
    [
      'concurrent update',
      'bigquery_concurrent_update',
      {
        reason: 'invalidQuery',
        message:
          'Could not serialize access to table test:market.fact_market_snapshot due to concurrent update',
      },
    ],
    [
      'transaction aborted',
      'bigquery_concurrent_update',
      {
        reason: 'invalidQuery',
        message: 'Transaction is aborted due to concurrent update against table test:market.dim_asset.',
      },
    ],
    [
      'DML queue',
      'bigquery_dml_queue_full',
      {
        reason: 'quotaExceeded',
        message:
          'Resources exceeded: too many DML statements outstanding against table market.ops_run, limit is 20.',
      },
    ],
    [
      'backendError',
      'bigquery_backend_error',
      {
        reason: 'backendError',
        message: 'Error encountered during execution. Retrying may solve the problem.',
      },
    ],
    [
      'rateLimitExceeded',
      'bigquery_rate_limited',
      { reason: 'rateLimitExceeded', message: 'Exceeded rate limits' },
    ],
  ])(
    'a merge job failing with %s (%s) is retried under the next id of its chain',
    async (_name, code, errorResult) => {
      expect(classifyJobFailure('j', errorResult, [])).toMatchObject({ code, retryable: true });
      fake.plan(MERGE_ID, { errorResult });

      const outcome = await warehouse().loadBatch(batch());

      const ids = queryJobs(`merge_${RUN_ID}_`).map(jobIdOf);
      expect(ids).toEqual([expect.stringMatching(MERGE_ID), `${ids[0]}_2`]);
      expect(outcome.factRowsInserted).toBe(2);
    },
  );

  it('a terminal merge failure of its own job is thrown, not retried under another id', async () => {
    fake.plan(MERGE_ID, {
      errorResult: { reason: 'accessDenied', message: 'Access Denied: Table test:market.ops_run' },
    });

    const error = await rejection(warehouse().loadBatch(batch()));

    expect(error).toMatchObject({ code: 'bigquery_access_denied', retryable: false });
    expect(queryJobs(`merge_${RUN_ID}_`)).toHaveLength(1);
  });

  it.each([
    ['notFound', 404, 'bigquery_not_found', 'Not found: Dataset test:market'],
    ['accessDenied', 403, 'bigquery_access_denied', 'Access Denied: Table test:market.ops_run'],
    ['invalidQuery', 400, 'bigquery_invalid_query', 'Unrecognized name: foo'],
    ['invalid', 400, 'bigquery_invalid', 'Invalid job configuration'],
  ])(
    'a job insert answered %s (HTTP %i) is terminal and not retried',
    async (reason, status, code, message) => {
      fake.plan(MERGE_ID, { insertErrors: [googleError(status, reason, message)] });

      const error = await rejection(warehouse().loadBatch(batch()));

      expect(error).toBeInstanceOf(LoadError);
      expect(error).toMatchObject({ stage: 'load', code, retryable: false });
      expect(fake.insertsOf(MERGE_ID)).toHaveLength(1);
    },
  );

  it('a load job that fails on bad data is terminal, and the merge never runs', async () => {
    fake.plan(new RegExp(`^load_${RUN_ID}_fact_`), {
      errorResult: {
        reason: 'invalid',
        message: 'Error while reading data, error message: JSON parsing error in row starting at position 0',
      },
    });

    const error = await rejection(warehouse().loadBatch(batch()));

    expect(error).toMatchObject({ code: 'bigquery_invalid', retryable: false });
    expect(error.message).toContain('JSON parsing error');
    expect(fake.insertsOf(MERGE_ID)).toEqual([]);
  });

  it('transient failures that outlast the budget surface as retryable', async () => {
    const answers = Array.from({ length: 200 }, () => googleError(503, 'backendError', 'unavailable'));
    fake.plan(MERGE_ID, { insertErrors: answers });

    const error = await rejection(warehouse().loadBatch(batch()));

    expect(error).toMatchObject({ code: 'bigquery_backend_error', retryable: true });
    expect(fake.insertsOf(MERGE_ID).length).toBeGreaterThan(3);
    expect(clock.now().getTime() - START.getTime()).toBeLessThanOrEqual(BUDGET);
  });

  it('a job still running when the budget ends is retryable (the redelivery will find it by id)', async () => {
    fake.plan(MERGE_ID, { runningPolls: 10_000 });

    const error = await rejection(warehouse().loadBatch(batch()));

    expect(error).toMatchObject({ code: 'bigquery_job_timeout', retryable: true });
  });

  it('a refused connection is retryable', async () => {
    const closed = await FakeGcpServer.start();
    const url = closed.url;
    await closed.close();

    const error = await rejection(warehouse(url).getRun(RUN_ID));

    expect(error).toMatchObject({ code: 'bigquery_unreachable', retryable: true });
  });

  it('classifyJobFailure decides on errorResult, not on row-level errors', () => {
    const error = classifyJobFailure('job1', { reason: 'invalid', message: 'Error while reading data' }, [
      { reason: 'backendError', message: 'row 3: something transient-looking' },
    ]);
    expect(error).toMatchObject({ code: 'bigquery_invalid', retryable: false });
    expect(error.message).toContain('row 3');
  });
});

describe('BigQueryWarehouse.recordFailedRun and getRun', () => {
  const failed: RunRow = {
    run_id: RUN_ID,
    source: 'coingecko',
    vs_currency: 'usd',
    slot_ts: SLOT,
    status: 'failed',
    raw_object: null,
    raw_generation: null,
    records_in: null,
    records_loaded: null,
    records_rejected: null,
    records_duplicate: null,
    asset_versions_new: null,
    load_started_at: null,
    load_finished_at: null,
    error_code: 'raw_object_missing',
    error_message: 'gone',
    updated_at: START,
  };

  it('runs record_failed_run.sql once per distinct failure, with typed NULL parameters', async () => {
    await warehouse().recordFailedRun(failed);
    await warehouse().recordFailedRun(failed);

    const inserts = fake.insertsOf(new RegExp(`^failed_${RUN_ID}_[0-9a-f]{16}$`));
    expect(inserts).toHaveLength(2);
    expect(jobIdOf(inserts[0]!)).toBe(jobIdOf(inserts[1]!));
    expect(fake.jobs.size).toBe(1); // the second was a 409 on a succeeded job: nothing ran again
    const resource = jobResourceOf(inserts[0]!) as {
      jobReference: { location: string };
      configuration: { query: { query: string; useLegacySql: boolean; queryParameters: unknown[] } };
    };
    expect(resource.jobReference.location).toBe('EU');
    expect(resource.configuration.query.useLegacySql).toBe(false);
    expect(resource.configuration.query.query).toContain('merge `test`.`market`.ops_run');
    expect(resource.configuration.query.queryParameters).toEqual(
      expect.arrayContaining([
        { name: 'raw_object', parameterType: { type: 'STRING' }, parameterValue: {} },
        {
          name: 'error_code',
          parameterType: { type: 'STRING' },
          parameterValue: { value: 'raw_object_missing' },
        },
        {
          name: 'slot_ts',
          parameterType: { type: 'TIMESTAMP' },
          parameterValue: { value: SLOT.toISOString() },
        },
      ]),
    );
  });

  it('refuses an unencodable parameter as terminal, before any request', async () => {
    const error = await rejection(
      warehouse().recordFailedRun({ ...failed, slot_ts: new Date('not a time') }),
    );

    expect(error).toMatchObject({ code: 'query_parameter_invalid', retryable: false });
    expect(server.requests).toEqual([]);
  });

  it('maps the get_run.sql row to a RunRow (INT64 as numbers, TIMESTAMP from microseconds)', async () => {
    const run = await warehouse().getRun(RUN_ID);

    expect(run).toEqual({
      run_id: RUN_ID,
      source: 'coingecko',
      vs_currency: 'usd',
      slot_ts: SLOT,
      status: 'loaded',
      raw_object: 'raw/x.json',
      raw_generation: '1763701200123456',
      records_in: 3,
      records_loaded: 2,
      records_rejected: 1,
      records_duplicate: 1,
      asset_versions_new: 1,
      load_started_at: START,
      load_finished_at: new Date(START.getTime() + 9000),
      error_code: null,
      error_message: null,
      updated_at: new Date(START.getTime() + 9000),
    });
    const [insert] = queryJobs('get_run_');
    const resource = jobResourceOf(insert!) as { configuration: { query: { queryParameters: unknown } } };
    expect(resource.configuration.query.queryParameters).toEqual([
      { name: 'run_id', parameterType: { type: 'STRING' }, parameterValue: { value: RUN_ID } },
    ]);
  });

  it('returns undefined when get_run.sql finds no row', async () => {
    fake.results = () => ({ fields: RUN_FIELDS as QueryResult['fields'], rows: [] });

    await expect(warehouse().getRun(RUN_ID)).resolves.toBeUndefined();
  });
});

describe('BigQueryWarehouse.getQualityChecks', () => {
  it('runs get_quality_checks.sql as a read (random job id) and maps its rows', async () => {
    fake.results = (job) =>
      job.id.startsWith('get_quality_')
        ? { fields: apiFields(opsQualityCheck), rows: [QUALITY_ROW] }
        : defaultResults(job);

    const checks = await warehouse().getQualityChecks(RUN_ID);
    await warehouse().getQualityChecks(RUN_ID);

    expect(checks).toEqual([
      {
        run_id: RUN_ID,
        check_name: 'record_count',
        severity: 'warning',
        status: 'fail',
        observed: 2,
        expected: 3,
        message: '2 of 3 expected coin(s) loaded',
        checked_at: new Date(START.getTime() + 9000),
      },
    ]);
    const inserts = queryJobs('get_quality_');
    expect(inserts).toHaveLength(2);
    const ids = inserts.map((r) => jobIdOf(r)!);
    expect(ids[0]).toMatch(new RegExp(`^get_quality_${RUN_ID}_[0-9a-f-]{36}$`));
    expect(ids[0]).not.toBe(ids[1]);
    const resource = jobResourceOf(inserts[0]!) as {
      jobReference: { location: string };
      configuration: { query: { query: string; useLegacySql: boolean; queryParameters: unknown } };
    };
    expect(resource.jobReference.location).toBe('EU');
    expect(resource.configuration.query.useLegacySql).toBe(false);
    expect(resource.configuration.query.query).toContain('from `test`.`market`.ops_quality_check as q');
    expect(resource.configuration.query.queryParameters).toEqual([
      { name: 'run_id', parameterType: { type: 'STRING' }, parameterValue: { value: RUN_ID } },
    ]);
    // A read records nothing.
    expect(queryJobs('quality_')).toEqual([]);
  });

  it('returns no checks for a run that has none', async () => {
    await expect(warehouse().getQualityChecks(RUN_ID)).resolves.toEqual([]);
  });

  it('classifies a failed read like every other job', async () => {
    fake.plan(/^get_quality_/, { errorResult: { reason: 'accessDenied', message: 'Access Denied' } });

    const error = await rejection(warehouse().getQualityChecks(RUN_ID));

    expect(error).toMatchObject({ code: 'bigquery_access_denied', retryable: false });
  });
});

describe('BigQueryWarehouse.ensureSchema', () => {
  const tablesList = (names: string[]) => ({
    body: {
      tables: names.map((tableId) => ({
        tableReference: { projectId: 'test', datasetId: 'market', tableId },
      })),
    },
  });

  it('verifies the dataset (and its location) and every table, creating nothing', async () => {
    server
      .once('GET', `${BASE}/datasets/market`, { body: { location: 'EU' } })
      .once(
        'GET',
        `${BASE}/datasets/market/tables`,
        tablesList([...TABLES.map((t) => t.name), 'v_dim_asset']),
      );

    await warehouse().ensureSchema();

    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET ${BASE}/datasets/market`,
      `GET ${BASE}/datasets/market/tables`,
    ]);
  });

  it('names the missing tables in one terminal error', async () => {
    server
      .once('GET', `${BASE}/datasets/market`, { body: { location: 'EU' } })
      .once('GET', `${BASE}/datasets/market/tables`, tablesList(['fact_market_snapshot']));

    const error = await rejection(warehouse().ensureSchema());

    expect(error).toMatchObject({ code: 'bigquery_tables_missing', retryable: false });
    expect(error.details.missing).toEqual([
      'dim_asset',
      'dim_date',
      'ops_run',
      'ops_rejected_record',
      'ops_quality_check',
      'fact_price_history',
      'ops_backfill_chunk',
    ]);
  });

  it('a missing dataset is terminal', async () => {
    server.once(
      'GET',
      `${BASE}/datasets/market`,
      googleError(404, 'notFound', 'Not found: Dataset test:market'),
    );

    const error = await rejection(warehouse().ensureSchema());

    expect(error).toMatchObject({ code: 'bigquery_not_found', retryable: false });
  });

  it('a dataset in another location is terminal', async () => {
    server.once('GET', `${BASE}/datasets/market`, { body: { location: 'US' } });

    const error = await rejection(warehouse().ensureSchema());

    expect(error).toMatchObject({ code: 'bigquery_location_mismatch', retryable: false });
  });
});
