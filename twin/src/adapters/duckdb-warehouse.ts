import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  DuckDBInstance,
  type DuckDBConnection,
  type DuckDBPreparedStatement,
  type DuckDBResultReader,
  type DuckDBValue,
} from '@duckdb/node-api';
import { LoadError } from '../../../functions/src/load/errors.js';
import type { LoadOutcome, StarBatch, Warehouse } from '../../../functions/src/core/warehouse.js';
import type {
  HistoryBatch,
  HistoryLoadOutcome,
  HistoryWarehouse,
} from '../../../functions/src/history/history-batch.js';
import { duckDbDdl } from '../../../functions/src/schema/duckdb-ddl.js';
import {
  dimAsset,
  dimDate,
  factMarketSnapshot,
  factPriceHistory,
  opsBackfillChunk,
  opsRejectedRecord,
  opsRun,
  TABLES,
  type BackfillChunkRow,
  type QualityCheckRow,
  type RunRow,
  type TableDef,
} from '../../../functions/src/schema/tables.js';
import { FRESHNESS_MAX_MEDIAN_AGE_SECONDS } from '../../../functions/src/quality/checks.js';
import { insertAssetVersionsSql, removeRedundantVersionsSql } from './asset-history.js';
import { recordQualityChecksSql } from './duckdb-quality.js';
import { appendRows, insertValues, isDuplicateKeyError, ts } from './duckdb-rows.js';
import { DUCKDB_VIEWS } from './duckdb-views.js';
import { copyDatabase } from './snapshot-copy.js';
import { KnownRuns } from './known-runs.js';
import { LatestVersions } from './latest-versions.js';
import { assertWarehouseExists } from './warehouse-file.js';

const STAGING = {
  fact: { table: factMarketSnapshot, name: '_stg_fact' },
  asset: { table: dimAsset, name: '_stg_asset' },
  rejected: { table: opsRejectedRecord, name: '_stg_rejected' },
  history: { table: factPriceHistory, name: '_stg_history' },
} as const;

/** Where the staging tables live: temp tables are the connection's own and never reach the file. */
const TEMP = { schema: 'main', catalog: 'temp' };

const READ_ONLY_LOCKED_DOWN = {
  access_mode: 'READ_ONLY',
  enable_external_access: 'false',
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
  lock_configuration: 'true',
};

/** The run record of a load that finds one already there: replaced unless that one was a success. */
const RUN_RECORD_UPSERT = `on conflict (run_id) do update set
  status = 'loaded', raw_object = excluded.raw_object, raw_generation = excluded.raw_generation,
  records_in = excluded.records_in, records_loaded = excluded.records_loaded,
  records_rejected = excluded.records_rejected, records_duplicate = excluded.records_duplicate,
  asset_versions_new = excluded.asset_versions_new, load_started_at = excluded.load_started_at,
  load_finished_at = excluded.load_finished_at, error_code = null, error_message = null,
  updated_at = excluded.updated_at
where ops_run.status <> 'loaded'`;

const cols = (t: TableDef) => t.columns.map((c) => c.name).join(', ');

const RUN_RECORD_INSERT = `insert into ops_run (${cols(opsRun)})
  values ($run_id, $source, $vs_currency, $slot_ts, 'loaded', $raw_object, $raw_generation,
          $records_in, $records_loaded, $records_rejected, $records_duplicate, $asset_versions_new,
          $load_started_at, $now, null, null, $now)`;
/** The run record of a first delivery, and of a tolerant retry (which may find one there). */
const RUN_RECORD_FIRST = `${RUN_RECORD_INSERT} returning *`;
const RUN_RECORD_TOLERANT = `${RUN_RECORD_INSERT} ${RUN_RECORD_UPSERT} returning *`;

/** A first delivery found its transaction aborted without a statement saying why. */
class AbortedTransaction extends Error {}

const isAbortedTransaction = (error: unknown): boolean =>
  error instanceof AbortedTransaction ||
  /Current transaction is aborted/i.test((error as Error | undefined)?.message ?? '');

/** Thrown by a first-delivery attempt that met existing rows (rolled back; retried tolerant). */
class AlreadyThere extends Error {}

/**
 * The twin's warehouse: one DuckDB file with the same star schema as BigQuery (DDL generated from
 * the schema source of truth) and the same load semantics as sql/load/merge_run.sql: dim_date
 * insert-if-new, dim_asset type 2 independent of load order (asset-history.ts), fact insert-only
 * on its grain, rejected
 * records and the run record, all in one transaction. Writes are serialised in-process; a second
 * process gets DuckDB's file lock error, reported clearly.
 */
export class DuckDbWarehouse implements Warehouse, HistoryWarehouse {
  private queue: Promise<unknown> = Promise.resolve();
  private schemaReady = false;
  /** dim_date keys in the warehouse (read once, then those this process committed). */
  private readonly knownDates = new Set<number>();
  private datesLoaded = false;
  /** The latest asset versions and slot, for loads in slot order (latest-versions.ts). */
  private readonly latest = new LatestVersions();
  /** The run ids ops_run may hold: a run never recorded is looked up without a statement. */
  private readonly runs = new KnownRuns();
  /** Statements run every load, prepared once (runPrepared). */
  private readonly prepared = new Map<string, DuckDBPreparedStatement>();
  /** The readable copies' own connection (publishSnapshot), opened by the first copy. */
  private copier: DuckDBConnection | undefined;
  private copies: Promise<void> = Promise.resolve();
  /**
   * Failpoint for crash tests: called between the statements of a load's transaction with the step
   * just done; throwing there is a crash mid-load (the transaction must leave nothing behind).
   */
  failpoint: ((step: 'dimensions' | 'fact' | 'run_record') => void) | undefined;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    readonly path: string,
  ) {}

  /** Opens (creating when missing) the warehouse file; `:memory:` for tests. */
  static async open(path: string): Promise<DuckDbWarehouse> {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const warehouse = await DuckDbWarehouse.connect(path, false);
    await warehouse.ensureSchema();
    // What the write path keeps in memory is read with the schema, once, not by the first load.
    await warehouse.loadKnownDates();
    await warehouse.latest.ensure(warehouse.connection);
    await warehouse.runs.ensure(warehouse.connection);
    return warehouse;
  }

  /**
   * Opens an existing warehouse read-only and locked down (for `status`, `query`, dashboards).
   * DuckDB's read-only mode protects only the database file: `COPY ... TO` could still overwrite it
   * or a lake object, `read_text` or `glob` could read any file, `INSTALL` could download. External
   * access off, extensions neither installed nor loaded on demand, and the configuration locked so a
   * statement cannot turn any of that back on: the connection can only read this database.
   */
  static async openReadOnly(path: string): Promise<DuckDbWarehouse> {
    assertWarehouseExists(path);
    const warehouse = await DuckDbWarehouse.connect(path, true);
    warehouse.schemaReady = true;
    return warehouse;
  }

  private static async connect(path: string, readOnly: boolean): Promise<DuckDbWarehouse> {
    let instance: DuckDBInstance;
    try {
      // No TimeZone setting: it needs the ICU extension, which cannot be downloaded offline. TIMESTAMP
      // columns hold UTC and every time is bound from JS, so the session zone never matters.
      instance = await DuckDBInstance.create(path, readOnly ? READ_ONLY_LOCKED_DOWN : {});
    } catch (e) {
      const message = (e as Error).message;
      const hint = /lock/i.test(message)
        ? ' (another crypto-pipeline process has it open: stop it, or use another --data-dir)'
        : '';
      throw new LoadError(`cannot open the warehouse ${path}: ${message}${hint}`, {
        code: 'warehouse_unavailable',
        retryable: false,
      });
    }
    return new DuckDbWarehouse(instance, await instance.connect(), path);
  }

  /** Runs `work` after every earlier write finished: one writer at a time, in arrival order. */
  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async ensureSchema(): Promise<void> {
    if (this.schemaReady) return;
    await this.serialised(async () => {
      for (const table of TABLES) await this.connection.run(duckDbDdl(table));
      for (const view of DUCKDB_VIEWS) await this.connection.run(view);
    });
    this.schemaReady = true;
  }

  /**
   * A first delivery conflicts with nothing, so it is applied with plain inserts: DuckDB's
   * `on conflict` costs about four times a plain insert. When a row is already there (a
   * redelivery, a run recorded as failed before) the primary key refuses it, the transaction is
   * rolled back whole, and the batch is applied again with the conflict-tolerant statements.
   */
  loadBatch(batch: StarBatch): Promise<LoadOutcome> {
    return this.serialised(async () => {
      try {
        return await this.apply(batch, false);
      } catch (error) {
        if (!(error instanceof AlreadyThere)) throw error;
        return this.apply(batch, true);
      }
    });
  }

  /**
   * Opens the load's transaction and fills fresh staging tables for `parts` in it: BEGIN and a
   * fresh temp table per part (CREATE OR REPLACE drops the last load's) in one round trip, then the
   * rows through the appender. Inside the transaction the staging tables' own commits go (one per
   * statement and per flush otherwise); the appender is safe there because a staging table has no
   * key to refuse a row (CREATE TABLE AS copies no constraint), unlike the star tables, where an
   * appender could leave the transaction aborted without an error. Emptying one table with DELETE
   * instead of a fresh one made every load slower than the one before: DuckDB does not reclaim
   * deleted rows of a table that lives on, so each load wrote past them.
   */
  private async beginStaged(
    parts: readonly (readonly [keyof typeof STAGING, readonly object[]])[],
  ): Promise<void> {
    await this.connection.run(
      [
        'BEGIN TRANSACTION;',
        ...parts.map(([part]) => {
          const { table, name } = STAGING[part];
          return `CREATE OR REPLACE TEMP TABLE ${name} AS SELECT * FROM ${table.name} LIMIT 0;`;
        }),
      ].join('\n'),
    );
    for (const [part, rows] of parts) {
      const { table, name } = STAGING[part];
      await appendRows(this.connection, name, table, rows, TEMP);
    }
  }

  /**
   * One load in one transaction. The rows are appended to fresh staging tables in it
   * (beginStaged), then inserted into the star tables. A first delivery uses plain
   * inserts, which a primary key refuses when a row is already there; the batch is then applied
   * again with `on conflict do nothing`. The asset versions of a load later than all before it
   * are decided in memory (latest-versions.ts); any other goes through the type 2 statements.
   *
   * Such an in-order load (always a first delivery) appends its facts and the versions it opens
   * straight into fact_market_snapshot and dim_asset, without a staging copy. Nothing can be there
   * to refuse them: both keys hold the slot (a fact's slot_ts, a version's valid_from), which is
   * later than every fact and version in the warehouse. That matters, because an appender refused
   * by a key inside the transaction could leave it aborted without an error; every other load (a
   * late snapshot, a redelivery, a second currency of a slot, rejected records) is staged.
   */
  private async apply(batch: StarBatch, tolerant: boolean): Promise<LoadOutcome> {
    const c = this.connection;
    await this.loadKnownDates();
    if (!tolerant) await this.latest.ensure(c);
    const inOrder = !tolerant && this.latest.isInOrder(batch.slot);
    // Statements that would do nothing are not sent (each costs DuckDB a few ms): dates already
    // in dim_date (24 runs a day share one), and rejected records when there are none (most runs).
    const newDates = batch.dates.filter((d) => !this.knownDates.has(d.date_key));
    const hasRejected = batch.rejected.length > 0;
    const opened = inOrder ? this.latest.opening(batch.assetCandidates) : [];
    const onConflict = tolerant ? 'on conflict do nothing' : '';

    try {
      // An in-order load appends its facts and new versions straight into their tables (below).
      await this.beginStaged([
        ...(inOrder
          ? []
          : ([
              ['asset', batch.assetCandidates],
              ['fact', batch.facts],
            ] as const)),
        ...(hasRejected ? ([['rejected', batch.rejected]] as const) : []),
      ]);
      if (newDates.length > 0) {
        // Prepared: a run has one date, so the statement is the same every load (a backfill's
        // calendar, of any length, stays unprepared below).
        const insert = insertValues(dimDate, newDates, onConflict);
        await this.runPrepared(insert.sql, insert.params);
      }
      let versionsNew: number;
      if (inOrder) {
        // Decided in memory (latest-versions.ts), and appended (see above: nothing can refuse them).
        await appendRows(c, dimAsset.name, dimAsset, opened);
        versionsNew = opened.length;
      } else {
        // Type 2, the same whatever the order of loads (see asset-history.ts): versions opened or
        // split by this run, then versions made redundant by a late snapshot. A load that opened
        // no version cannot have made one redundant, so the second statement is skipped then.
        const assets = await c.run(
          insertAssetVersionsSql(STAGING.asset.name, earliest(batch.assetCandidates)),
        );
        if (assets.rowsChanged > 0) await c.run(removeRedundantVersionsSql(STAGING.asset.name));
        versionsNew = assets.rowsChanged;
      }
      this.failpoint?.('dimensions');
      let factRows: number;
      if (inOrder) {
        await appendRows(c, factMarketSnapshot.name, factMarketSnapshot, batch.facts);
        factRows = batch.facts.length;
      } else {
        const sql = `insert into fact_market_snapshot select s.* from _stg_fact as s ${onConflict}`;
        factRows = (await c.run(sql)).rowsChanged;
      }
      this.failpoint?.('fact');
      if (hasRejected) {
        await c.run(`insert into ops_rejected_record select s.* from _stg_rejected as s ${onConflict}`);
      }
      // RETURNING gives the run record as written, saving a select; a run already loaded is left
      // as it is (the WHERE), returns nothing, and is read after the commit.
      this.runs.writing(batch.runId);
      const written = await this.runPrepared(tolerant ? RUN_RECORD_TOLERANT : RUN_RECORD_FIRST, {
        run_id: batch.runId,
        source: batch.source,
        vs_currency: batch.vsCurrency,
        slot_ts: ts(batch.slot),
        raw_object: batch.raw.key,
        raw_generation: batch.raw.generation,
        records_in: batch.counts.recordsIn,
        records_loaded: factRows,
        records_rejected: batch.counts.rejected,
        records_duplicate: batch.counts.duplicates,
        asset_versions_new: versionsNew,
        load_started_at: ts(batch.loadStartedAt),
        now: ts(new Date()),
      });
      // A first delivery's insert has no conflict clause: no row back means the transaction was
      // aborted underneath it (DuckDB then answers statements with nothing, and COMMIT rolls back).
      if (!tolerant && written.currentRowCount === 0) throw new AbortedTransaction();
      this.failpoint?.('run_record');
      // The run's quality checks, after everything they look at is written: one statement.
      const checked = await this.runPrepared(recordQualityChecksSql(onConflict), {
        run_id: batch.runId,
        slot_ts: ts(batch.slot),
        expected_records: batch.expectedRecords,
        records_in: batch.counts.recordsIn,
        records_rejected: batch.counts.rejected,
        freshness_max_seconds: FRESHNESS_MAX_MEDIAN_AGE_SECONDS,
        checked_at: ts(new Date()),
      });
      await c.run('COMMIT');
      for (const d of newDates) this.knownDates.add(d.date_key);
      if (inOrder) this.latest.committed(batch.slot, opened);
      else this.latest.invalidate();
      const run = (plainRows(written)[0] as RunRow | undefined) ?? (await this.readRun(batch.runId));
      // Nothing returned: a redelivery, whose first delivery recorded the checks.
      let qualityChecks = (plainRows(checked) as QualityCheckRow[]).sort(byCheckName);
      const qualityChecksRecorded = qualityChecks.length > 0;
      if (!qualityChecksRecorded) qualityChecks = await this.readQualityChecks(batch.runId);
      return {
        factRowsInserted: factRows,
        assetVersionsInserted: versionsNew,
        run: run!,
        qualityChecks,
        qualityChecksRecorded,
      };
    } catch (error) {
      await c.run('ROLLBACK').catch(() => undefined);
      this.latest.invalidate();
      // A first delivery refused by a primary key, or whose transaction an appender aborted (a
      // duplicate key found at the appender's close), is applied again with the conflict-tolerant
      // statements: they load what is missing, or fail with the real cause.
      if (!tolerant && (isDuplicateKeyError(error) || isAbortedTransaction(error))) throw new AlreadyThere();
      throw classify(error);
    }
  }

  /** dim_date's keys, read once: rows there are never removed, so a key not in the set is new. */
  private async loadKnownDates(): Promise<void> {
    if (this.datesLoaded) return;
    const rows = await this.connection.runAndReadAll('select date_key from dim_date');
    for (const [key] of rows.getRows()) this.knownDates.add(Number(key));
    this.datesLoaded = true;
  }

  /**
   * Runs a statement prepared once per connection: the run record's insert and lookup, the date's
   * insert and the quality checks come every load, and DuckDB then skips parsing them (and, for
   * an insert of values, planning them).
   */
  private async runPrepared(
    sql: string,
    params: Record<string, DuckDBValue> | DuckDBValue[],
  ): Promise<DuckDBResultReader> {
    let statement = this.prepared.get(sql);
    if (!statement) {
      statement = await this.connection.prepare(sql);
      this.prepared.set(sql, statement);
    }
    statement.bind(params);
    return statement.runAndReadAll();
  }

  recordFailedRun(run: RunRow): Promise<void> {
    return this.serialised(async () => {
      this.runs.writing(run.run_id);
      await this.connection.run(
        `insert into ops_run (run_id, source, vs_currency, slot_ts, status, raw_object, raw_generation,
                              error_code, error_message, updated_at)
         values ($run_id, $source, $vs_currency, $slot_ts, 'failed', $raw_object, $raw_generation,
                 $error_code, $error_message, $updated_at)
         on conflict (run_id) do update set
           status = 'failed', raw_object = excluded.raw_object, raw_generation = excluded.raw_generation,
           error_code = excluded.error_code, error_message = excluded.error_message, updated_at = excluded.updated_at
         where ops_run.status <> 'loaded'`,
        {
          run_id: run.run_id,
          source: run.source,
          vs_currency: run.vs_currency,
          slot_ts: ts(run.slot_ts),
          raw_object: run.raw_object,
          raw_generation: run.raw_generation,
          error_code: run.error_code,
          error_message: run.error_message,
          updated_at: ts(run.updated_at),
        },
      );
    });
  }

  /**
   * A backfill chunk, in one transaction: its calendar rows, its points insert-only on the grain
   * (`on conflict do nothing`: a redelivered or overlapping chunk adds nothing), and its chunk
   * record. Same semantics as sql/load/merge_price_history.sql in BigQuery.
   */
  loadHistoryChunk(batch: HistoryBatch): Promise<HistoryLoadOutcome> {
    return this.serialised(async () => {
      const c = this.connection;
      await this.loadKnownDates();
      const newDates = batch.dates.filter((d) => !this.knownDates.has(d.date_key));
      try {
        await this.beginStaged([['history', batch.rows]]);
        if (newDates.length > 0) {
          const insert = insertValues(dimDate, newDates, 'on conflict do nothing');
          await c.run(insert.sql, insert.params);
        }
        const points = await c.run(
          `insert into fact_price_history select s.* from _stg_history as s on conflict do nothing`,
        );
        await c.run(
          `insert into ops_backfill_chunk (${cols(opsBackfillChunk)})
           values ($chunk_id, $coin_id, $vs_currency, $granularity, $range_from, $range_to, 'loaded',
                   $raw_object, $raw_generation, $points_in, $points_loaded, $points_rejected, null, null, $now)
           on conflict (chunk_id) do update set
             status = 'loaded', raw_object = excluded.raw_object, raw_generation = excluded.raw_generation,
             points_in = excluded.points_in, points_loaded = excluded.points_loaded,
             points_rejected = excluded.points_rejected, error_code = null, error_message = null,
             updated_at = excluded.updated_at
           where ops_backfill_chunk.status <> 'loaded'`,
          {
            chunk_id: batch.chunk.chunkId,
            coin_id: batch.chunk.coinId,
            vs_currency: batch.chunk.vsCurrency,
            granularity: batch.chunk.granularity,
            range_from: ts(batch.chunk.from),
            range_to: ts(batch.chunk.to),
            raw_object: batch.raw.key,
            raw_generation: batch.raw.generation,
            points_in: batch.counts.pointsIn,
            points_loaded: points.rowsChanged,
            points_rejected: batch.counts.rejected,
            now: ts(new Date()),
          },
        );
        await c.run('COMMIT');
        for (const d of newDates) this.knownDates.add(d.date_key);
        return { pointsInserted: points.rowsChanged };
      } catch (error) {
        await c.run('ROLLBACK').catch(() => undefined);
        throw classify(error);
      }
    });
  }

  recordFailedChunk(row: BackfillChunkRow): Promise<void> {
    return this.serialised(async () => {
      await this.connection.run(
        `insert into ops_backfill_chunk (chunk_id, coin_id, vs_currency, granularity, range_from, range_to,
                                         status, raw_object, raw_generation, error_code, error_message, updated_at)
         values ($chunk_id, $coin_id, $vs_currency, $granularity, $range_from, $range_to, 'failed',
                 $raw_object, $raw_generation, $error_code, $error_message, $updated_at)
         on conflict (chunk_id) do update set
           status = 'failed', raw_object = excluded.raw_object, raw_generation = excluded.raw_generation,
           error_code = excluded.error_code, error_message = excluded.error_message, updated_at = excluded.updated_at
         where ops_backfill_chunk.status <> 'loaded'`,
        {
          chunk_id: row.chunk_id,
          coin_id: row.coin_id,
          vs_currency: row.vs_currency,
          granularity: row.granularity,
          range_from: ts(row.range_from),
          range_to: ts(row.range_to),
          raw_object: row.raw_object,
          raw_generation: row.raw_generation,
          error_code: row.error_code,
          error_message: row.error_message,
          updated_at: ts(row.updated_at),
        },
      );
    });
  }

  getChunk(chunkId: string): Promise<BackfillChunkRow | undefined> {
    return this.serialised(async () => {
      const rows = await this.select(`select * from ops_backfill_chunk where chunk_id = $chunk_id`, {
        chunk_id: chunkId,
      });
      return rows[0] as BackfillChunkRow | undefined;
    });
  }

  getRun(runId: string): Promise<RunRow | undefined> {
    // In the queue all the same: a write of this run queued before the lookup is seen by it.
    return this.serialised(async () => (this.runs.mayHave(runId) ? this.readRun(runId) : undefined));
  }

  getQualityChecks(runId: string): Promise<QualityCheckRow[]> {
    return this.serialised(() => this.readQualityChecks(runId));
  }

  private async readQualityChecks(runId: string): Promise<QualityCheckRow[]> {
    const rows = await this.select(
      `select * from ops_quality_check where run_id = $run_id order by check_name`,
      { run_id: runId },
    );
    return rows as QualityCheckRow[];
  }

  private async readRun(runId: string): Promise<RunRow | undefined> {
    const rows = plainRows(
      await this.runPrepared(`select * from ops_run where run_id = $run_id`, { run_id: runId }),
    );
    return rows[0] as RunRow | undefined;
  }

  /**
   * Read-only query for the CLI and dashboards: rows as plain JS values (BIGINT as number when
   * exact, TIMESTAMP as Date, DATE as YYYY-MM-DD).
   */
  query(
    sql: string,
    params: Record<string, string | number> = {},
    options: { timeoutMs?: number } = {},
  ): Promise<Record<string, unknown>[]> {
    return this.serialised(async () => {
      if (options.timeoutMs === undefined) return this.select(sql, params);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        this.connection.interrupt();
      }, options.timeoutMs);
      try {
        return await this.select(sql, params);
      } catch (error) {
        if (!timedOut) throw error;
        throw new LoadError(`query stopped after ${options.timeoutMs / 1000} s (its time limit)`, {
          code: 'query_timeout',
          retryable: false,
        });
      } finally {
        clearTimeout(timer);
      }
    });
  }

  /**
   * Publishes a consistent copy of the warehouse at `target` for readers (snapshot-copy.ts), on a
   * connection of its own: a load queued meanwhile is not held up by the copy. Copies run one at a
   * time, in the order asked.
   */
  publishSnapshot(target: string): Promise<void> {
    const next = this.copies.then(async () => {
      this.copier ??= await this.instance.connect();
      await copyDatabase(this.copier, target);
    });
    this.copies = next.catch(() => undefined);
    return next;
  }

  private async select(
    sql: string,
    params: Record<string, string | number>,
  ): Promise<Record<string, unknown>[]> {
    return plainRows(await this.connection.runAndReadAll(sql, params));
  }

  async close(): Promise<void> {
    await this.queue;
    await this.copies;
    this.copier?.closeSync();
    for (const statement of this.prepared.values()) statement.destroySync();
    this.prepared.clear();
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** The earliest `valid_from` among the candidates (all are the run's slot; min to be safe). */
function earliest(candidates: StarBatch['assetCandidates']): Date | undefined {
  let min: Date | undefined;
  for (const c of candidates) if (!min || c.valid_from < min) min = c.valid_from;
  return min;
}

/**
 * Rows as plain JS values: BIGINT as a number when exact (else text), TIMESTAMP as Date, DATE as
 * `YYYY-MM-DD` (the JS conversion makes it a midnight Date, which would print as a timestamp).
 */
export function plainRows(reader: DuckDBResultReader): Record<string, unknown>[] {
  const names = reader.columnNames();
  const dates = new Set(names.filter((_, i) => reader.columnType(i).toString() === 'DATE'));
  return reader
    .getRowObjectsJS()
    .map((row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, dates.has(k) ? toDateText(v) : toPlain(v)])),
    );
}

function toDateText(value: unknown): unknown {
  return value instanceof Date ? value.toISOString().slice(0, 10) : value;
}

/** Keys are 53-bit by construction, so BIGINTs fit a JS number; anything larger stays exact as text. */
function toPlain(value: unknown): unknown {
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  return value;
}

/**
 * DuckDB errors that say the statement or the data is wrong will fail the same way every time;
 * anything else (a transaction conflict, I/O, a crash in the middle) may pass on redelivery.
 */
const TERMINAL_DUCKDB_ERROR =
  /^(Constraint|Conversion|Binder|Parser|Catalog|Invalid Input|Not implemented) Error/;

function classify(error: unknown): LoadError {
  if (error instanceof LoadError) return error;
  const message = (error as Error).message ?? String(error);
  const retryable = !TERMINAL_DUCKDB_ERROR.test(message);
  return new LoadError(`warehouse write failed: ${message}`, {
    code: retryable ? 'warehouse_transient' : 'warehouse_error',
    retryable,
    cause: error,
  });
}

const byCheckName = (a: QualityCheckRow, b: QualityCheckRow) => a.check_name.localeCompare(b.check_name);
