import { randomUUID } from 'node:crypto';
import type { BigQuery } from '@google-cloud/bigquery';
import { isRetryable, PipelineError } from '../../core/errors.js';
import { systemClock, type Clock } from '../../core/ports.js';
import { utcDate } from '../../core/run-identity.js';
import { shortHash } from '../../core/stable-key.js';
import type { LoadOutcome, StarBatch, Warehouse } from '../../core/warehouse.js';
import type { HistoryBatch, HistoryLoadOutcome, HistoryWarehouse } from '../../history/history-batch.js';
import { LoadError } from '../../load/errors.js';
import {
  bigQuerySchema,
  MERGE_STAGING_TABLES,
  SQL_PARAMETERS,
  type StagingPlaceholder,
} from '../../schema/bigquery-schema.js';
import { FRESHNESS_MAX_MEDIAN_AGE_SECONDS } from '../../quality/checks.js';
import {
  opsBackfillChunk,
  opsQualityCheck,
  opsRun,
  TABLES,
  type BackfillChunkRow,
  type QualityCheckRow,
  type RunRow,
} from '../../schema/tables.js';
import { readSql, renderSql, type SqlName } from '../../sql/sql-files.js';
import {
  decodeRows,
  queryParameters,
  stagingPayload,
  type ParamValue,
  type QueryParameter,
  type QueryResultsResponse,
  type StagingPayload,
} from './bigquery-rows.js';
import { googleErrorFacts, isTransientStatus, type GoogleErrorItem } from './google-errors.js';
import { Budget, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-budget.js';

/** Where and how the warehouse runs. */
export interface BigQueryWarehouseOptions {
  /** Project that owns the dataset and runs (and pays for) the jobs. */
  project: string;
  dataset: string;
  /** Dataset location, sent with every job: job ids are unique per location. */
  location: string;
  clock?: Clock;
  /** Budget and backoff for one call (loadBatch, getRun...); keep it below the function timeout. */
  retry?: Partial<RetryPolicy>;
  random?: () => number;
  /** BigQuery deletes a staging table this long after its last load (default two days). */
  stagingTtlMs?: number;
  /** First delay between job status polls, growing by half each time up to `maxPollMs`. */
  pollMs?: number;
  maxPollMs?: number;
  /** HTTP timeout of one API request. */
  requestTimeoutMs?: number;
}

/** The REST job resource, as far as the adapter reads it. */
interface JobResource {
  jobReference?: { projectId?: string; jobId?: string; location?: string };
  status?: { state?: string; errorResult?: GoogleErrorItem; errors?: GoogleErrorItem[] };
}

interface FinishedJob {
  jobId: string;
  job: JobResource;
  /** True when this call created the job; false when an earlier delivery did (found via 409). */
  ours: boolean;
}

/** One REST request; `path` is relative to `/bigquery/v2/projects/{project}`. */
interface ApiRequest {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  /** Send to the media upload endpoint (`/upload/bigquery/v2/...`). */
  upload?: boolean;
  qs?: Record<string, string | number | boolean>;
  json?: unknown;
  multipart?: { contentType: string; body: Buffer }[];
}

/** A non-2xx answer of the REST API, shaped like the clients' ApiError (`code`, `errors[]`). */
export class BigQueryApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly errors: GoogleErrorItem[],
  ) {
    super(message);
    this.name = 'BigQueryApiError';
  }

  /** Reads Google's JSON error body (`{error: {code, message, errors[]}}`), or keeps the raw text. */
  static from(status: number, body: unknown, text: string): BigQueryApiError {
    const error = (body as { error?: { message?: unknown; errors?: unknown } } | null)?.error;
    const message =
      typeof error?.message === 'string' ? error.message : text.slice(0, 500) || `HTTP ${status}`;
    const errors = Array.isArray(error?.errors) ? (error.errors as GoogleErrorItem[]) : [];
    return new BigQueryApiError(status, message, errors);
  }
}

const STAGING: readonly {
  placeholder: StagingPlaceholder;
  suffix: string;
  rows: (b: StarBatch) => object[];
}[] = [
  { placeholder: 'staging_fact', suffix: 'fact', rows: (b) => b.facts },
  { placeholder: 'staging_asset', suffix: 'asset', rows: (b) => b.assetCandidates },
  { placeholder: 'staging_date', suffix: 'date', rows: (b) => b.dates },
  { placeholder: 'staging_rejected', suffix: 'rejected', rows: (b) => b.rejected },
];

type ParametersOf<F extends keyof typeof SQL_PARAMETERS> = Record<
  keyof (typeof SQL_PARAMETERS)[F],
  ParamValue
>;

/**
 * The named parameters of `sql/load/merge_run.sql` for a batch. Exported so that the test that
 * executes the script offline (tests/support/bigquery-script-on-duckdb.ts) sends exactly these.
 */
export function mergeRunParameters(batch: StarBatch): ParametersOf<'load/merge_run.sql'> {
  return {
    run_id: batch.runId,
    source: batch.source,
    vs_currency: batch.vsCurrency,
    slot_ts: batch.slot,
    snapshot_date: utcDate(batch.slot),
    raw_object: batch.raw.key,
    raw_generation: batch.raw.generation,
    records_in: batch.counts.recordsIn,
    records_rejected: batch.counts.rejected,
    records_duplicate: batch.counts.duplicates,
    load_started_at: batch.loadStartedAt,
  };
}

/** The named parameters of `sql/quality/record_quality_checks.sql` for a batch just merged. */
export function qualityCheckParameters(batch: StarBatch): ParametersOf<'quality/record_quality_checks.sql'> {
  return {
    run_id: batch.runId,
    snapshot_date: utcDate(batch.slot),
    expected_records: batch.expectedRecords,
    records_in: batch.counts.recordsIn,
    records_rejected: batch.counts.rejected,
    freshness_max_seconds: FRESHNESS_MAX_MEDIAN_AGE_SECONDS,
  };
}

/** The named parameters of `sql/load/record_failed_run.sql` for a failed run. */
export function recordFailedRunParameters(run: RunRow): ParametersOf<'load/record_failed_run.sql'> {
  return {
    run_id: run.run_id,
    source: run.source,
    vs_currency: run.vs_currency,
    slot_ts: run.slot_ts,
    raw_object: run.raw_object,
    raw_generation: run.raw_generation,
    error_code: run.error_code,
    error_message: run.error_message,
  };
}

/** The named parameters of `sql/load/merge_price_history.sql` for a backfill chunk. */
export function mergePriceHistoryParameters(
  batch: HistoryBatch,
): ParametersOf<'load/merge_price_history.sql'> {
  const { chunk } = batch;
  const days = batch.rows.map((r) => r.history_date).sort();
  return {
    chunk_id: chunk.chunkId,
    coin_id: chunk.coinId,
    vs_currency: chunk.vsCurrency,
    granularity: chunk.granularity,
    range_from: chunk.from,
    range_to: chunk.to,
    // The partition range the merge reads; an empty chunk reads the range's first day only.
    first_date: days[0] ?? utcDate(chunk.from),
    last_date: days.at(-1) ?? utcDate(chunk.from),
    raw_object: batch.raw.key,
    raw_generation: batch.raw.generation,
    points_in: batch.counts.pointsIn,
    points_rejected: batch.counts.rejected,
  };
}

/** The named parameters of `sql/load/record_failed_chunk.sql`. */
export function recordFailedChunkParameters(
  row: BackfillChunkRow,
): ParametersOf<'load/record_failed_chunk.sql'> {
  return {
    chunk_id: row.chunk_id,
    coin_id: row.coin_id,
    vs_currency: row.vs_currency,
    granularity: row.granularity,
    range_from: row.range_from,
    range_to: row.range_to,
    raw_object: row.raw_object,
    raw_generation: row.raw_generation,
    error_code: row.error_code,
    error_message: row.error_message,
  };
}

/** Chunk ids hold dots and dashes (coin ids); job and table ids take letters, digits and `_`. */
const jobSafe = (id: string): string => id.replace(/[^A-Za-z0-9_]/g, '_');

/**
 * A job id names one attempt; a failed job cannot be run again under its id. When the job found
 * under an id failed, the next id in the chain `<base>`, `<base>_2`, ... is tried: deterministic,
 * so concurrent and later deliveries walk the same chain and meet at the job that succeeded.
 */
const MAX_JOB_ID_VARIANTS = 20;

const JOB_LABELS = { app: 'crypto-market-pipeline' };

const CONCURRENT_UPDATE = [
  /could not serialize access to table .* due to concurrent update/i,
  /transaction is aborted due to concurrent update/i,
];
const DML_QUEUE_FULL = /too many dml statements outstanding/i;
const RATE_LIMITED = new Set(['rateLimitExceeded', 'jobRateLimitExceeded', 'userRateLimitExceeded']);
const BACKEND = new Set(['backendError', 'internalError', 'jobBackendError', 'jobInternalError']);

/**
 * The warehouse on BigQuery (ARCHITECTURE.md §2-4). A batch is serialised as NDJSON and loaded by
 * load jobs into four per-run staging tables (`_staging_<runId>_fact|asset|date|rejected`,
 * WRITE_TRUNCATE, expiring after `stagingTtlMs`), then `sql/load/merge_run.sql` applies them in one
 * transaction as a query job. Every job has a deterministic id and an explicit location; an id
 * that already exists (409) is looked at, never taken as success: the adapter waits for that job
 * and uses it only if it succeeded. Transient failures are retried with jitter inside the call's
 * budget; everything else is a terminal LoadError.
 *
 * The `BigQuery` client is used for its credentials and endpoint only: each REST request is sent
 * once (see `api`), so this budget is the only retry loop. Nothing else is needed to construct it.
 * `ensureSchema` verifies and never creates (Pulumi owns the tables).
 */
export class BigQueryWarehouse implements Warehouse, HistoryWarehouse {
  private readonly clock: Clock;
  private readonly policy: RetryPolicy;
  private readonly random: () => number;
  private readonly stagingTtlMs: number;
  private readonly pollMs: number;
  private readonly maxPollMs: number;
  private readonly requestTimeoutMs: number;
  private schemaVerified = false;

  constructor(
    private readonly bigquery: BigQuery,
    private readonly options: BigQueryWarehouseOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.random = options.random ?? Math.random;
    this.stagingTtlMs = options.stagingTtlMs ?? 2 * 24 * 3600_000;
    this.pollMs = options.pollMs ?? 500;
    this.maxPollMs = options.maxPollMs ?? 5_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /**
   * Verifies, never creates: Pulumi owns the dataset and tables (partitioning, clustering, the
   * partition filter, descriptions) and the load identity has no right to create datasets. Checks
   * that the dataset exists in the configured location and holds every table of the schema, so a
   * missing `pulumi up` fails at cold start with one clear terminal error, not mid-load.
   */
  async ensureSchema(): Promise<void> {
    if (this.schemaVerified) return;
    const budget = this.budget();
    const { dataset, location, project } = this.options;
    const meta = await budget.retry(
      () => this.api<{ location?: string }>({ method: 'GET', path: `/datasets/${dataset}` }),
      (e) => classifyApiError(e, `dataset ${project}.${dataset}`),
    );
    if (meta.location !== undefined && meta.location.toLowerCase() !== location.toLowerCase()) {
      throw new LoadError(
        `dataset ${project}.${dataset} is in ${meta.location}, configured for ${location}`,
        {
          code: 'bigquery_location_mismatch',
          retryable: false,
        },
      );
    }
    const present = new Set<string>();
    let pageToken: string | undefined;
    do {
      const qs: Record<string, string | number> = { maxResults: 1000 };
      if (pageToken !== undefined) qs.pageToken = pageToken;
      const page = await budget.retry(
        () =>
          this.api<{ tables?: { tableReference?: { tableId?: string } }[]; nextPageToken?: string }>({
            method: 'GET',
            path: `/datasets/${dataset}/tables`,
            qs,
          }),
        (e) => classifyApiError(e, `tables of ${project}.${dataset}`),
      );
      for (const t of page.tables ?? []) if (t.tableReference?.tableId) present.add(t.tableReference.tableId);
      pageToken = page.nextPageToken;
    } while (pageToken !== undefined);
    const missing = TABLES.map((t) => t.name).filter((name) => !present.has(name));
    if (missing.length > 0) {
      throw new LoadError(
        `dataset ${project}.${dataset} lacks ${missing.join(', ')} (created by \`pulumi up\`)`,
        {
          code: 'bigquery_tables_missing',
          retryable: false,
          details: { missing },
        },
      );
    }
    this.schemaVerified = true;
  }

  /**
   * Loads the staging tables (in parallel), then runs the merge script as job
   * `merge_<runId>_<fingerprint>`. The fingerprint covers the SQL, the parameters and the staged
   * data but not delivery times, so a duplicate delivery meets the earlier delivery's job: when
   * that job succeeded nothing runs again and the outcome reports 0 rows inserted by this call.
   */
  async loadBatch(batch: StarBatch): Promise<LoadOutcome> {
    const budget = this.budget();
    const identifiers: Record<string, SqlName> = { dataset: this.datasetPath() };
    // Serialise everything first: a bad row fails the call before any job is started.
    const staged = STAGING.map(({ placeholder, suffix, rows }) => {
      const tableId = `_staging_${batch.runId}_${suffix}`;
      identifiers[placeholder] = tableId;
      return {
        placeholder,
        suffix,
        tableId,
        payload: stagingPayload(MERGE_STAGING_TABLES[placeholder], rows(batch)),
      };
    });
    // The four loads are independent; running them together saves three job latencies. Every load
    // is waited for before deciding, so no job is left running unobserved behind an early error.
    const settled = await Promise.allSettled(
      staged.map(async ({ placeholder, suffix, tableId, payload }) => {
        await this.runJob(
          `load_${batch.runId}_${suffix}_${payload.contentHash}`,
          (jobId) => this.insertLoadJob(jobId, tableId, placeholder, payload),
          budget,
        );
        await this.expireLater(tableId, budget);
      }),
    );
    const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    // A terminal failure decides the outcome: retrying the transient ones would not save the run.
    if (failures.length > 0) throw failures.find((f) => !isRetryable(f)) ?? failures[0];

    const file = 'load/merge_run.sql';
    const sql = renderSql(readSql(file), identifiers);
    const params = mergeRunParameters(batch);
    const { load_started_at: _deliveryTime, ...stableParams } = params;
    const fingerprint = shortHash(
      sql,
      JSON.stringify(stableParams),
      ...staged.map((s) => s.payload.stableHash),
    );
    // Encoded up front: a bad value is a terminal error here, not something to retry.
    const parameters = queryParameters(SQL_PARAMETERS[file], params);
    const merge = await this.runJob(
      `merge_${batch.runId}_${fingerprint}`,
      (jobId) => this.insertQueryJob(jobId, sql, parameters, 'merge'),
      budget,
    );

    let factRowsInserted = 0;
    let assetVersionsInserted = 0;
    if (merge.ours) {
      const [row] = await this.queryResults(merge.jobId, budget);
      factRowsInserted = Number(row?.fact_rows_inserted ?? 0);
      assetVersionsInserted = Number(row?.asset_versions_inserted ?? 0);
    }
    const run = await this.readRun(batch.runId, budget);
    if (run === undefined) {
      throw new LoadError(`merge job ${merge.jobId} succeeded but ops_run has no row for ${batch.runId}`, {
        code: 'run_record_missing',
        retryable: true,
      });
    }
    const quality = await this.recordQualityChecks(batch, budget);
    return {
      factRowsInserted,
      assetVersionsInserted,
      run,
      qualityChecks: quality.rows,
      qualityChecksRecorded: quality.recorded,
    };
  }

  /**
   * Runs `sql/quality/record_quality_checks.sql` as job `quality_<runId>_<fingerprint>` after the
   * merge committed, and reads back the run's checks. A separate job, not a statement of the merge
   * script: that script's last statement is the result the merge's caller reads. Its id is
   * deterministic like the merge's, so a duplicate delivery adopts the job instead of checking
   * twice (and the merge on run_id and check_name would keep the first rows anyway). Being a second
   * job, it can fail after the merge committed: the run is then loaded without its checks, and the
   * redelivery (which getQualityChecks lets run-load tell apart) adopts the merge and runs this job
   * under the next id of its chain. `recorded`: this call ran the job that recorded them.
   */
  private async recordQualityChecks(
    batch: StarBatch,
    budget: Budget,
  ): Promise<{ rows: QualityCheckRow[]; recorded: boolean }> {
    const file = 'quality/record_quality_checks.sql';
    const sql = renderSql(readSql(file), { dataset: this.datasetPath() });
    const params = qualityCheckParameters(batch);
    const parameters = queryParameters(SQL_PARAMETERS[file], params);
    const job = await this.runJob(
      `quality_${batch.runId}_${shortHash(sql, JSON.stringify(params))}`,
      (jobId) => this.insertQueryJob(jobId, sql, parameters, 'quality'),
      budget,
    );
    const rows = (await this.queryResults(job.jobId, budget)).map(qualityCheckRow);
    return { rows, recorded: job.ours };
  }

  /** Runs `sql/quality/get_quality_checks.sql` (a read: random job id). */
  async getQualityChecks(runId: string): Promise<QualityCheckRow[]> {
    const budget = this.budget();
    const file = 'quality/get_quality_checks.sql';
    const sql = renderSql(readSql(file), { dataset: this.datasetPath() });
    const parameters = queryParameters(SQL_PARAMETERS[file], { run_id: runId });
    const job = await this.runJob(
      `get_quality_${runId}_${randomUUID()}`,
      (jobId) => this.insertQueryJob(jobId, sql, parameters, 'get_quality_checks'),
      budget,
    );
    return (await this.queryResults(job.jobId, budget)).map(qualityCheckRow);
  }

  /**
   * Runs `sql/load/record_failed_run.sql` as job `failed_<runId>_<fingerprint of the failure>`: the
   * same failure delivered twice is recorded once, and a loaded run is never touched (the script's
   * own rule).
   */
  async recordFailedRun(run: RunRow): Promise<void> {
    const budget = this.budget();
    const file = 'load/record_failed_run.sql';
    const sql = renderSql(readSql(file), { dataset: this.datasetPath() });
    const params = recordFailedRunParameters(run);
    const parameters = queryParameters(SQL_PARAMETERS[file], params);
    await this.runJob(
      `failed_${run.run_id}_${shortHash(sql, JSON.stringify(params))}`,
      (jobId) => this.insertQueryJob(jobId, sql, parameters, 'record_failed_run'),
      budget,
    );
  }

  /**
   * A backfill chunk: its points and calendar rows loaded into two staging tables, then
   * `sql/load/merge_price_history.sql` as job `history_<chunk>_<fingerprint>`, so a redelivery
   * meets the earlier job, like loadBatch.
   */
  async loadHistoryChunk(batch: HistoryBatch): Promise<HistoryLoadOutcome> {
    const budget = this.budget();
    const base = jobSafe(batch.chunk.chunkId);
    const identifiers: Record<string, SqlName> = { dataset: this.datasetPath() };
    const staged = (
      [
        ['staging_history', 'history', batch.rows],
        ['staging_date', 'date', batch.dates],
      ] as const
    ).map(([placeholder, suffix, rows]) => {
      const tableId = `_staging_${base}_${suffix}`;
      identifiers[placeholder] = tableId;
      return {
        placeholder,
        suffix,
        tableId,
        payload: stagingPayload(MERGE_STAGING_TABLES[placeholder], rows),
      };
    });
    const settled = await Promise.allSettled(
      staged.map(async ({ placeholder, suffix, tableId, payload }) => {
        await this.runJob(
          `load_${base}_${suffix}_${payload.contentHash}`,
          (jobId) => this.insertLoadJob(jobId, tableId, placeholder, payload),
          budget,
        );
        await this.expireLater(tableId, budget);
      }),
    );
    const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length > 0) throw failures.find((f) => !isRetryable(f)) ?? failures[0];

    const file = 'load/merge_price_history.sql';
    const sql = renderSql(readSql(file), identifiers);
    const params = mergePriceHistoryParameters(batch);
    const fingerprint = shortHash(sql, JSON.stringify(params), ...staged.map((s) => s.payload.stableHash));
    const parameters = queryParameters(SQL_PARAMETERS[file], params);
    const merge = await this.runJob(
      `history_${base}_${fingerprint}`,
      (jobId) => this.insertQueryJob(jobId, sql, parameters, 'merge_price_history'),
      budget,
    );
    if (!merge.ours) return { pointsInserted: 0 };
    const [row] = await this.queryResults(merge.jobId, budget);
    return { pointsInserted: Number(row?.points_inserted ?? 0) };
  }

  /** Runs `sql/load/record_failed_chunk.sql`; the same failure delivered twice is one job. */
  async recordFailedChunk(row: BackfillChunkRow): Promise<void> {
    const budget = this.budget();
    const file = 'load/record_failed_chunk.sql';
    const sql = renderSql(readSql(file), { dataset: this.datasetPath() });
    const params = recordFailedChunkParameters(row);
    const parameters = queryParameters(SQL_PARAMETERS[file], params);
    await this.runJob(
      `failed_chunk_${jobSafe(row.chunk_id)}_${shortHash(sql, JSON.stringify(params))}`,
      (jobId) => this.insertQueryJob(jobId, sql, parameters, 'record_failed_chunk'),
      budget,
    );
  }

  /** Runs `sql/load/get_chunk.sql` (a read: random job id). */
  async getChunk(chunkId: string): Promise<BackfillChunkRow | undefined> {
    const budget = this.budget();
    const file = 'load/get_chunk.sql';
    const sql = renderSql(readSql(file), { dataset: this.datasetPath() });
    const parameters = queryParameters(SQL_PARAMETERS[file], { chunk_id: chunkId });
    const job = await this.runJob(
      `get_chunk_${jobSafe(chunkId)}_${randomUUID()}`,
      (jobId) => this.insertQueryJob(jobId, sql, parameters, 'get_chunk'),
      budget,
    );
    const [row] = await this.queryResults(job.jobId, budget);
    if (row === undefined) return undefined;
    const chunk: Record<string, unknown> = {};
    for (const column of opsBackfillChunk.columns) chunk[column.name] = row[column.name] ?? null;
    return chunk as BackfillChunkRow;
  }

  /** Runs `sql/load/get_run.sql` (a read: its job id is random, nothing to deduplicate). */
  async getRun(runId: string): Promise<RunRow | undefined> {
    return this.readRun(runId, this.budget());
  }

  private async readRun(runId: string, budget: Budget): Promise<RunRow | undefined> {
    const file = 'load/get_run.sql';
    const sql = renderSql(readSql(file), { dataset: this.datasetPath() });
    const parameters = queryParameters(SQL_PARAMETERS[file], { run_id: runId });
    const job = await this.runJob(
      `get_run_${runId}_${randomUUID()}`,
      (jobId) => this.insertQueryJob(jobId, sql, parameters, 'get_run'),
      budget,
    );
    const [row] = await this.queryResults(job.jobId, budget);
    if (row === undefined) return undefined;
    const run: Record<string, unknown> = {};
    for (const column of opsRun.columns) run[column.name] = row[column.name] ?? null;
    return run as RunRow;
  }

  /** The dataset the SQL names its tables in, qualified by the project so no default applies. */
  private datasetPath(): readonly [string, string] {
    return [this.options.project, this.options.dataset];
  }

  private budget(): Budget {
    return new Budget(this.clock, this.policy, this.random);
  }

  /**
   * One REST request, sent once: the client supplies credentials (and its endpoint), the request
   * itself goes through `fetch` so that no hidden client retry can resend it. That keeps two rules
   * exact: the budget here is the only retry loop, and a 409 on a job id this call has not sent
   * before really is another delivery's job. Multipart uploads are built here for the same reason.
   */
  private async api<T>(request: ApiRequest): Promise<T> {
    const url = new URL(
      request.upload === true
        ? `${this.bigquery.apiEndpoint}/upload/bigquery/v2/projects/${this.options.project}${request.path}`
        : `${this.bigquery.apiEndpoint}/bigquery/v2/projects/${this.options.project}${request.path}`,
    );
    for (const [k, v] of Object.entries(request.qs ?? {})) url.searchParams.set(k, String(v));
    const authorised = await new Promise<{ uri: string; headers?: unknown }>((resolve, reject) => {
      const reqOpts = { uri: url.toString(), method: request.method };
      this.bigquery.makeAuthenticatedRequest(reqOpts, {
        onAuthenticated: (error, opts) => (error ? reject(error) : resolve(opts ?? reqOpts)),
      });
    });
    const headers = new Headers(authorised.headers as Record<string, string> | Headers | undefined);
    headers.set('accept', 'application/json');
    let body: Buffer | undefined;
    if (request.json !== undefined) {
      headers.set('content-type', 'application/json; charset=utf-8');
      body = Buffer.from(JSON.stringify(request.json));
    } else if (request.multipart !== undefined) {
      const boundary = `crypto_pipeline_${randomUUID()}`;
      headers.set('content-type', `multipart/related; boundary=${boundary}`);
      body = Buffer.concat([
        ...request.multipart.flatMap((part) => [
          Buffer.from(`--${boundary}\r\nContent-Type: ${part.contentType}\r\n\r\n`),
          part.body,
          Buffer.from('\r\n'),
        ]),
        Buffer.from(`--${boundary}--\r\n`),
      ]);
    }
    const response = await fetch(authorised.uri, {
      method: request.method,
      headers,
      body,
      signal: AbortSignal.timeout(this.requestTimeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = {};
    try {
      if (text !== '') parsed = JSON.parse(text);
    } catch {
      if (response.ok) {
        throw new LoadError(`BigQuery answered ${request.method} ${url.pathname} with non-JSON`, {
          code: 'bigquery_bad_response',
          retryable: true,
        });
      }
    }
    if (!response.ok) throw BigQueryApiError.from(response.status, parsed, text);
    return parsed as T;
  }

  private jobReference(jobId: string) {
    return { projectId: this.options.project, jobId, location: this.options.location };
  }

  /**
   * `POST /upload/bigquery/v2/projects/{project}/jobs?uploadType=multipart`: the job resource and
   * the NDJSON in one request (uploads are a few MB at most).
   */
  private insertLoadJob(
    jobId: string,
    tableId: string,
    placeholder: StagingPlaceholder,
    payload: StagingPayload,
  ): Promise<JobResource> {
    const table = MERGE_STAGING_TABLES[placeholder];
    const resource = {
      jobReference: this.jobReference(jobId),
      configuration: {
        labels: { ...JOB_LABELS, step: 'stage' },
        load: {
          destinationTable: { projectId: this.options.project, datasetId: this.options.dataset, tableId },
          sourceFormat: 'NEWLINE_DELIMITED_JSON',
          schema: { fields: bigQuerySchema(table) },
          writeDisposition: 'WRITE_TRUNCATE',
          createDisposition: 'CREATE_IF_NEEDED',
          ignoreUnknownValues: false,
          maxBadRecords: 0,
        },
      },
    };
    return this.api<JobResource>({
      method: 'POST',
      path: '/jobs',
      upload: true,
      qs: { uploadType: 'multipart' },
      multipart: [
        { contentType: 'application/json; charset=UTF-8', body: Buffer.from(JSON.stringify(resource)) },
        { contentType: 'application/octet-stream', body: payload.body },
      ],
    });
  }

  /**
   * Load jobs cannot set a table's expiry, so it is patched right after each load: a staging table
   * outlives a failed merge long enough to be looked at, and no longer.
   */
  private async expireLater(tableId: string, budget: Budget): Promise<void> {
    const expirationTime = String(this.clock.now().getTime() + this.stagingTtlMs);
    await budget.retry(
      () =>
        this.api({
          method: 'PATCH',
          path: `/datasets/${this.options.dataset}/tables/${tableId}`,
          json: { expirationTime },
        }),
      (e) => classifyApiError(e, `staging table ${tableId}`),
    );
  }

  /** `POST /projects/{project}/jobs` with a GoogleSQL script and its typed named parameters. */
  private insertQueryJob(
    jobId: string,
    sql: string,
    queryParameters: QueryParameter[],
    step: string,
  ): Promise<JobResource> {
    return this.api<JobResource>({
      method: 'POST',
      path: '/jobs',
      json: {
        jobReference: this.jobReference(jobId),
        configuration: {
          labels: { ...JOB_LABELS, step },
          query: { query: sql, useLegacySql: false, parameterMode: 'NAMED', queryParameters },
        },
      },
    });
  }

  /**
   * Inserts a job under the first free or successful id of its chain and waits for it. Rules:
   * - insert answered: the job is ours; wait for it;
   * - 409 (the id exists): fetch that job and wait for it; it counts as ours only if an earlier
   *   insert of this call got no definite answer (a lost response: the request did reach BigQuery);
   * - the job succeeded: done, whoever created it;
   * - it failed and was ours: a transient failure is retried under the next id after a backoff, a
   *   terminal one is thrown;
   * - it failed and was an earlier delivery's: that failure was already reported; this delivery is
   *   a new attempt, so it moves on to the next id at once.
   */
  private async runJob(
    baseId: string,
    insert: (jobId: string) => Promise<JobResource>,
    budget: Budget,
  ): Promise<FinishedJob> {
    let ownFailures = 0;
    let lastFailure: LoadError | undefined;
    for (let n = 1; n <= MAX_JOB_ID_VARIANTS; n++) {
      const jobId = n === 1 ? baseId : `${baseId}_${n}`;
      const { job, ours } = await this.insertOrAdopt(jobId, insert, budget);
      const done = await this.waitForJob(jobId, job, budget);
      const failure = done.status?.errorResult;
      if (failure === undefined) return { jobId, job: done, ours };
      lastFailure = classifyJobFailure(jobId, failure, done.status?.errors ?? []);
      if (!ours) continue;
      ownFailures++;
      if (!lastFailure.retryable || !(await budget.wait(budget.backoffMs(ownFailures)))) throw lastFailure;
    }
    throw new LoadError(`every job id from ${baseId} to ${baseId}_${MAX_JOB_ID_VARIANTS} has failed`, {
      code: 'bigquery_job_ids_exhausted',
      retryable: false,
      cause: lastFailure,
      details: { baseId },
    });
  }

  private async insertOrAdopt(
    jobId: string,
    insert: (jobId: string) => Promise<JobResource>,
    budget: Budget,
  ): Promise<{ job: JobResource; ours: boolean }> {
    // Set once an insert of this id failed without a definite answer (a network error or a 5xx):
    // the server may have created the job anyway, so a later 409 can be this call's own job.
    let mayHaveCreated = false;
    return budget.retry(
      async () => {
        try {
          return { job: await insert(jobId), ours: true };
        } catch (error) {
          if (googleErrorFacts(error).status !== 409) {
            mayHaveCreated = true;
            throw error;
          }
          return { job: await this.getAdopted(jobId), ours: mayHaveCreated };
        }
      },
      (e) => classifyApiError(e, `job ${jobId}`),
    );
  }

  /**
   * The job behind a 409. It must exist, so a 404 here is the service catching up (or a job id
   * taken in another location), not a missing dataset: worth another attempt, unlike other 404s.
   */
  private async getAdopted(jobId: string): Promise<JobResource> {
    try {
      return await this.getJob(jobId);
    } catch (error) {
      if (googleErrorFacts(error).status !== 404) throw error;
      throw new LoadError(`job ${jobId} exists (409) but cannot be read yet (404)`, {
        code: 'bigquery_job_not_visible',
        retryable: true,
        cause: error,
      });
    }
  }

  /** `GET /projects/{project}/jobs/{jobId}?location=...` */
  private getJob(jobId: string): Promise<JobResource> {
    return this.api<JobResource>({
      method: 'GET',
      path: `/jobs/${jobId}`,
      qs: { location: this.options.location },
    });
  }

  /**
   * Polls until DONE. Running out of budget is retryable: the job carries on, and the redelivery
   * finds it by its id (409) and waits for it instead of starting another.
   */
  private async waitForJob(jobId: string, initial: JobResource, budget: Budget): Promise<JobResource> {
    let job = initial;
    let delay = this.pollMs;
    while (job.status?.state !== 'DONE') {
      if (!(await budget.wait(delay))) {
        throw new LoadError(
          `job ${jobId} is still ${job.status?.state ?? 'pending'} at the end of the time budget`,
          {
            code: 'bigquery_job_timeout',
            retryable: true,
            details: { jobId },
          },
        );
      }
      delay = Math.min(delay * 1.5, this.maxPollMs);
      job = await budget.retry(
        () => this.getJob(jobId),
        (e) => classifyApiError(e, `job ${jobId}`),
      );
    }
    return job;
  }

  /** `GET /projects/{project}/queries/{jobId}`: a script job answers with its last statement's rows. */
  private async queryResults(jobId: string, budget: Budget): Promise<Record<string, unknown>[]> {
    for (;;) {
      const response = await budget.retry(
        () =>
          this.api<QueryResultsResponse>({
            method: 'GET',
            path: `/queries/${jobId}`,
            qs: {
              location: this.options.location,
              'formatOptions.useInt64Timestamp': true,
              // The server holds the request up to this long; it must end before the HTTP timeout.
              timeoutMs: Math.min(10_000, Math.floor(this.requestTimeoutMs / 2)),
            },
          }),
        (e) => classifyApiError(e, `results of job ${jobId}`),
      );
      if (response.jobComplete !== false) return decodeRows(response);
      if (!(await budget.wait(this.pollMs))) {
        throw new LoadError(`results of job ${jobId} not ready within the time budget`, {
          code: 'bigquery_job_timeout',
          retryable: true,
        });
      }
    }
  }
}

/** A row of ops_quality_check as a query returns it (its columns, absent ones as null). */
function qualityCheckRow(row: Record<string, unknown>): QualityCheckRow {
  const check: Record<string, unknown> = {};
  for (const column of opsQualityCheck.columns) check[column.name] = row[column.name] ?? null;
  return check as QualityCheckRow;
}

/** Classification shared by HTTP errors and failed jobs: the reason, then the message. */
function classify(
  reasons: string[],
  message: string,
  status: number | undefined,
): { code: string; retryable: boolean } {
  if (CONCURRENT_UPDATE.some((p) => p.test(message)))
    return { code: 'bigquery_concurrent_update', retryable: true };
  if (DML_QUEUE_FULL.test(message)) return { code: 'bigquery_dml_queue_full', retryable: true };
  if (reasons.some((r) => RATE_LIMITED.has(r)) || status === 429) {
    return { code: 'bigquery_rate_limited', retryable: true };
  }
  if (reasons.some((r) => BACKEND.has(r)) || (status !== undefined && isTransientStatus(status))) {
    return { code: 'bigquery_backend_error', retryable: true };
  }
  if (reasons.includes('notFound') || status === 404) return { code: 'bigquery_not_found', retryable: false };
  if (reasons.includes('accessDenied') || status === 401 || status === 403) {
    return { code: 'bigquery_access_denied', retryable: false };
  }
  if (reasons.includes('invalidQuery')) return { code: 'bigquery_invalid_query', retryable: false };
  if (reasons.includes('quotaExceeded')) return { code: 'bigquery_quota_exceeded', retryable: false };
  if (reasons.includes('invalid')) return { code: 'bigquery_invalid', retryable: false };
  return { code: 'bigquery_rejected', retryable: false };
}

/** An error thrown by an API call, as a LoadError (pipeline errors pass through unchanged). */
export function classifyApiError(error: unknown, what: string): LoadError | PipelineError {
  if (error instanceof PipelineError) return error;
  const facts = googleErrorFacts(error);
  // No HTTP answer at all: the network's fault when there is a socket error (connection refused
  // or reset, DNS, timeout); otherwise unexplained, and retried as isRetryable treats the unknown.
  const verdict =
    facts.status !== undefined || facts.reasons.length > 0
      ? classify(facts.reasons, facts.message, facts.status)
      : {
          code: facts.networkCode !== undefined ? 'bigquery_unreachable' : 'bigquery_unexpected',
          retryable: true,
        };
  return new LoadError(`BigQuery ${what}: ${facts.message}`, {
    ...verdict,
    cause: error,
    details: { status: facts.status, networkCode: facts.networkCode, reasons: facts.reasons },
  });
}

/**
 * A job that finished with `status.errorResult`, as a LoadError. Only the errorResult decides:
 * `status.errors` also lists row-level and informational entries; they only add to the message.
 */
export function classifyJobFailure(
  jobId: string,
  result: GoogleErrorItem,
  errors: GoogleErrorItem[],
): LoadError {
  const main = result.message ?? result.reason ?? 'no message';
  const more = [
    ...new Set(errors.map((e) => e.message).filter((m): m is string => m !== undefined && m !== main)),
  ];
  const message = [main, ...more.slice(0, 5)].join('; ');
  return new LoadError(`BigQuery job ${jobId} failed: ${message}`, {
    ...classify(result.reason === undefined ? [] : [result.reason], main, undefined),
    details: { jobId, reason: result.reason, location: result.location },
  });
}
