/**
 * Executes the BigQuery load scripts of sql/load/ on DuckDB, to test what they *do*, not only that
 * they parse (issue 8). ZetaSQL's packaged local service analyses but cannot evaluate DML or
 * scripts, and no BigQuery emulator exists on these machines; so the rendered script is translated
 * mechanically, statement by statement, and run on an in-memory DuckDB that holds the tables as
 * BigQuery does (generated from the schema source of truth, no keys enforced: BigQuery has none).
 *
 * The translation only bridges dialect differences, each one listed in `translateStatement`, and
 * refuses what it does not know, so a BigQuery construct it cannot map fails the test instead of
 * being skipped. Script semantics are interpreted here: `declare`/`set` variables, `@@row_count`
 * (DuckDB's changed-row count of the previous statement), named `@parameters` (as typed literals:
 * a test harness, never production), `begin`/`commit` and the rollback of the open transaction
 * when a statement fails. What this proves, and what it cannot, is in the README.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import {
  mergePriceHistoryParameters,
  mergeRunParameters,
  qualityCheckParameters,
  recordFailedChunkParameters,
  recordFailedRunParameters,
} from '../../functions/src/adapters/gcp/bigquery-warehouse.js';
import type { HistoryBatch } from '../../functions/src/history/history-batch.js';
import { stagingPayload, type ParamValue } from '../../functions/src/adapters/gcp/bigquery-rows.js';
import type { StarBatch } from '../../functions/src/core/warehouse.js';
import {
  MERGE_STAGING_TABLES,
  SQL_PARAMETERS,
  type ParameterisedSqlFile,
  type StagingPlaceholder,
} from '../../functions/src/schema/bigquery-schema.js';
import { DUCKDB_TYPES } from '../../functions/src/schema/duckdb-ddl.js';
import {
  opsQualityCheck,
  TABLES,
  type BackfillChunkRow,
  type ColumnType,
  type QualityCheckRow,
  type RunRow,
  type TableDef,
} from '../../functions/src/schema/tables.js';
import { readSql, renderSql } from '../../functions/src/sql/sql-files.js';
import { plainRows } from '../../twin/src/adapters/duckdb-warehouse.js';

/** The dataset placeholder renders to DuckDB's default schema, so `main.dim_asset` resolves. */
const DATASET = 'main';

/** A literal of a BigQuery type, in DuckDB syntax. */
export function literal(type: ColumnType, value: ParamValue | undefined): string {
  if (value === null || value === undefined) return `cast(null as ${DUCKDB_TYPES[type]})`;
  switch (type) {
    case 'STRING':
      return `'${String(value).replace(/'/g, "''")}'`;
    case 'INT64':
    case 'FLOAT64':
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw new Error(`not a number: ${String(value)}`);
      return `cast(${value} as ${DUCKDB_TYPES[type]})`;
    case 'BOOL':
      return value === true ? 'true' : 'false';
    case 'DATE':
      return `cast('${String(value)}' as date)`;
    case 'TIMESTAMP': {
      const iso = (value instanceof Date ? value : new Date(String(value))).toISOString();
      return `cast('${iso.replace('T', ' ').replace('Z', '')}' as timestamp)`;
    }
  }
}

/** Removes `--` comments and splits on `;`, both outside quoted strings and identifiers. */
export function splitScript(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (quote !== undefined) {
      current += ch;
      if (ch === '\\') current += sql[++i] ?? '';
      else if (ch === quote) quote = undefined;
    } else if (ch === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
      current += '\n';
    } else if (ch === ';') {
      if (current.trim() !== '') statements.push(current.trim());
      current = '';
    } else {
      if (ch === "'" || ch === '"' || ch === '`') quote = ch;
      current += ch;
    }
  }
  if (current.trim() !== '') statements.push(current.trim());
  return statements;
}

/** Splits a call's argument text on its top-level commas. */
function splitArguments(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let current = '';
  for (const ch of text) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    if (ch === ',' && depth === 0 && quote === undefined) {
      args.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') args.push(current.trim());
  return args;
}

/**
 * Rewrites every call of the function `name` (arguments first, so nested calls are rewritten too)
 * with `rewrite(arguments)`.
 */
function rewriteCalls(sql: string, name: string, rewrite: (args: string[]) => string): string {
  const pattern = new RegExp(`(?<![\\w.])${name}\\s*\\(`, 'i');
  let out = '';
  let rest = sql;
  for (let match = pattern.exec(rest); match !== null; match = pattern.exec(rest)) {
    const open = match.index + match[0].length;
    let depth = 1;
    let quote: string | undefined;
    let i = open;
    for (; i < rest.length && depth > 0; i++) {
      const ch = rest[i]!;
      if (quote !== undefined) {
        if (ch === quote) quote = undefined;
      } else if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '(') depth++;
      else if (ch === ')') depth--;
    }
    if (depth !== 0) throw new Error(`unbalanced call of ${name} in: ${rest.slice(match.index, 200)}`);
    const inner = rewriteCalls(rest.slice(open, i - 1), name, rewrite);
    out += rest.slice(0, match.index) + rewrite(splitArguments(inner));
    rest = rest.slice(i);
  }
  return out + rest;
}

/** BigQuery format elements this translation knows, to DuckDB strftime's. */
function strftimeFormat(bigQueryFormat: string): string {
  const format = bigQueryFormat.replace(/%E3S/g, '%S.%g');
  const unknown = format.match(/%E\w+|%[^YmdHMSgZ%]/);
  if (unknown) throw new Error(`format element ${unknown[0]} is not translated`);
  return format;
}

export interface ScriptState {
  /** Script variables by name, after `declare` and `set`. */
  variables: Map<string, number>;
  /** Changed rows of the previous DML statement: BigQuery's `@@row_count`. */
  rowCount: number;
  inTransaction: boolean;
}

/**
 * One statement of a BigQuery script in DuckDB's dialect, or `undefined` when the interpreter
 * handled it (declare, set). Every rewrite is a dialect difference, not a change of meaning:
 * - `merge t` is `merge into t`;
 * - `int64` is `bigint`;
 * - `to_hex(sha256(x))`: DuckDB's sha256 already returns the lowercase hex digest;
 * - `code_points_to_string([n, ...])` is `chr(n) || ...`;
 * - `format_timestamp(f, ts, 'UTC')` is `strftime(ts, f)` (DuckDB timestamps hold UTC wall time);
 * - `current_timestamp()` is the time the script runs at, given by the caller;
 * - `percentile_cont(x, p)` (analytic) is `quantile_cont(x, p)`, the same interpolated quantile;
 * - `timestamp_diff(a, b, millisecond)` is `date_diff('millisecond', b, a)` (whole milliseconds
 *   both; other parts are refused: DuckDB counts boundaries where BigQuery truncates);
 * - `float64` is `double`;
 * - `@name` is the parameter's value as a typed literal; script variables are their values.
 */
export function translateStatement(
  statement: string,
  state: ScriptState,
  parameters: Readonly<Record<string, { type: ColumnType; value: ParamValue }>>,
  now: Date,
): string | undefined {
  const declare = /^declare\s+(\w+)\s+int64\s+default\s+(-?\d+)$/i.exec(statement);
  if (declare) {
    state.variables.set(declare[1]!, Number(declare[2]));
    return undefined;
  }
  if (/^declare\b/i.test(statement)) throw new Error(`declaration not translated: ${statement}`);
  const set = /^set\s+(\w+)\s*=\s*@@row_count$/i.exec(statement);
  if (set) {
    if (!state.variables.has(set[1]!)) throw new Error(`set of an undeclared variable: ${statement}`);
    state.variables.set(set[1]!, state.rowCount);
    return undefined;
  }
  if (/^set\b|@@/i.test(statement)) throw new Error(`statement not translated: ${statement}`);

  // BigQuery quotes identifiers with backticks (renderSql quotes every project, dataset and table
  // name it fills in); DuckDB with double quotes.
  let sql = statement.replace(/`([^`]*)`/g, (_, name: string) => `"${name.replaceAll('"', '""')}"`);
  sql = sql.replace(/^merge\s+(?!into\b)/i, 'merge into ');
  sql = rewriteCalls(sql, 'to_hex', ([arg, ...more]) => {
    if (arg === undefined || more.length > 0 || !/^sha256\s*\(/i.test(arg)) {
      throw new Error(`to_hex is translated over sha256 only, not: to_hex(${[arg, ...more].join(', ')})`);
    }
    return arg;
  });
  sql = rewriteCalls(sql, 'code_points_to_string', ([list, ...more]) => {
    const codes = /^\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]$/.exec(list ?? '');
    if (!codes || more.length > 0) throw new Error(`code_points_to_string(${list ?? ''}) is not translated`);
    return `(${codes[1]!
      .split(',')
      .map((c) => `chr(${c.trim()})`)
      .join(' || ')})`;
  });
  sql = rewriteCalls(sql, 'format_timestamp', ([format, value, zone, ...more]) => {
    const quoted = /^'([^']*)'$/.exec(format ?? '');
    if (!quoted || value === undefined || more.length > 0 || (zone !== undefined && zone !== "'UTC'")) {
      throw new Error(`format_timestamp(${[format, value, zone].join(', ')}) is not translated`);
    }
    return `strftime(${value}, '${strftimeFormat(quoted[1]!)}')`;
  });
  sql = rewriteCalls(sql, 'percentile_cont', ([value, fraction, ...more]) => {
    if (value === undefined || fraction === undefined || more.length > 0) {
      throw new Error(`percentile_cont(${[value, fraction, ...more].join(', ')}) is not translated`);
    }
    return `quantile_cont(${value}, ${fraction})`;
  });
  sql = rewriteCalls(sql, 'timestamp_diff', ([later, earlier, part, ...more]) => {
    if (
      later === undefined ||
      earlier === undefined ||
      !/^millisecond$/i.test(part ?? '') ||
      more.length > 0
    ) {
      throw new Error(`timestamp_diff(${[later, earlier, part].join(', ')}) is not translated`);
    }
    return `date_diff('millisecond', ${earlier}, ${later})`;
  });
  sql = sql.replace(/\bcurrent_timestamp\s*\(\s*\)/gi, literal('TIMESTAMP', now));
  sql = sql.replace(/\bint64\b/gi, 'bigint');
  sql = sql.replace(/\bfloat64\b/gi, 'double');
  // Variables before parameters, and parameters in one pass: a value is never scanned again.
  for (const [name, value] of state.variables) {
    sql = sql.replace(new RegExp(`(?<![\\w.@$'])${name}\\b`, 'g'), literal('INT64', value));
  }
  return sql.replace(/(?<![@\w])@(\w+)/g, (_, name: string) => {
    const parameter = parameters[name];
    if (parameter === undefined) throw new Error(`query parameter @${name} has no value`);
    return literal(parameter.type, parameter.value);
  });
}

/** BIGINT as number when exact, like the twin's warehouse reads them. */
/** Outcome of one run of merge_run.sql: the row of its last statement. */
/** Rows that select ops_quality_check's columns in order, as the adapter reads them. */
function qualityCheckRows(rows: unknown[][]): QualityCheckRow[] {
  return rows.map((values) => {
    const check: Record<string, unknown> = {};
    opsQualityCheck.columns.forEach((column, i) => (check[column.name] = values[i] ?? null));
    return check as QualityCheckRow;
  });
}

export interface MergeRunOutcome {
  factRowsInserted: number;
  assetVersionsInserted: number;
}

/**
 * An in-memory DuckDB shaped like the BigQuery dataset, that runs the repository's load scripts the
 * way BigQueryWarehouse submits them (same rendering, same parameters, same staging tables).
 */
export class BigQueryScriptOnDuckDb {
  /** The translated statements of the last script, for failure messages. */
  lastTranslation: string[] = [];

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    /** Script text by file: defaults to sql/; a test may run a changed copy (mutants). */
    private readonly scripts: Partial<Record<ParameterisedSqlFile, string>>,
  ) {}

  static async open(
    scripts: Partial<Record<ParameterisedSqlFile, string>> = {},
  ): Promise<BigQueryScriptOnDuckDb> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const runner = new BigQueryScriptOnDuckDb(instance, connection, scripts);
    for (const table of TABLES) await connection.run(runner.tableDdl(table, table.name));
    return runner;
  }

  /** BigQuery enforces REQUIRED columns but no keys: so does this table. */
  private tableDdl(table: TableDef, name: string): string {
    const columns = table.columns.map(
      (c) => `${c.name} ${DUCKDB_TYPES[c.type]}${c.required ? ' not null' : ''}`,
    );
    return `create table ${DATASET}.${name} (${columns.join(', ')})`;
  }

  /**
   * Runs a script of sql/load/ with its declared parameters. Statements run one by one; when one
   * fails, the open transaction is rolled back and the error thrown, as BigQuery ends a script.
   */
  async runScript(
    file: ParameterisedSqlFile,
    identifiers: Record<string, string>,
    values: Readonly<Record<string, ParamValue>>,
    now: Date,
  ): Promise<unknown[][]> {
    const types = SQL_PARAMETERS[file] as Readonly<Record<string, ColumnType>>;
    const parameters = Object.fromEntries(
      Object.entries(types).map(([name, type]) => [name, { type, value: values[name] ?? null }]),
    );
    const text = renderSql(this.scripts[file] ?? readSql(file), { dataset: DATASET, ...identifiers });
    const state: ScriptState = { variables: new Map(), rowCount: 0, inTransaction: false };
    this.lastTranslation = [];
    let rows: unknown[][] = [];
    try {
      for (const statement of splitScript(text)) {
        const sql = translateStatement(statement, state, parameters, now);
        if (sql === undefined) continue;
        this.lastTranslation.push(sql);
        if (/^begin\b/i.test(sql)) state.inTransaction = true;
        if (/^(commit|rollback)\b/i.test(sql)) state.inTransaction = false;
        if (/^(select|with)\b/i.test(sql)) {
          rows = plainRows(await this.connection.runAndReadAll(sql)).map((r) => Object.values(r));
        } else {
          state.rowCount = Number((await this.connection.run(sql)).rowsChanged);
        }
      }
    } catch (error) {
      if (state.inTransaction) await this.connection.run('rollback');
      throw error;
    }
    if (state.inTransaction) {
      await this.connection.run('rollback');
      throw new Error(`${file} ended inside a transaction`);
    }
    return rows;
  }

  /**
   * What BigQueryWarehouse.loadBatch does: fill the four staging tables from the very NDJSON its
   * load jobs upload (the adapter's serialiser), then run merge_run.sql with its parameters.
   */
  async loadBatch(batch: StarBatch, now = batch.loadStartedAt): Promise<MergeRunOutcome> {
    const identifiers: Record<string, string> = {};
    const staging: Record<StagingPlaceholder, readonly object[]> = {
      staging_fact: batch.facts,
      staging_asset: batch.assetCandidates,
      staging_date: batch.dates,
      staging_rejected: batch.rejected,
      staging_history: [],
    };
    for (const [placeholder, rows] of Object.entries(staging) as [StagingPlaceholder, readonly object[]][]) {
      const name = `_staging_${batch.runId}_${placeholder.replace('staging_', '')}`;
      identifiers[placeholder] = name;
      await this.stageRows(placeholder, name, rows);
    }
    const [result] = await this.runScript('load/merge_run.sql', identifiers, mergeRunParameters(batch), now);
    if (result === undefined || result.length !== 2) throw new Error('merge_run.sql returned no result row');
    return { factRowsInserted: Number(result[0]), assetVersionsInserted: Number(result[1]) };
  }

  /**
   * What BigQueryWarehouse.loadBatch does after the merge: sql/quality/record_quality_checks.sql
   * with its parameters, returning the run's check rows as its last statement gives them.
   */
  async recordQualityChecks(batch: StarBatch, now = batch.loadStartedAt): Promise<QualityCheckRow[]> {
    const rows = await this.runScript(
      'quality/record_quality_checks.sql',
      {},
      qualityCheckParameters(batch),
      now,
    );
    return qualityCheckRows(rows);
  }

  /** What BigQueryWarehouse.getQualityChecks does: sql/quality/get_quality_checks.sql. */
  async getQualityChecks(runId: string, now = new Date()): Promise<QualityCheckRow[]> {
    return qualityCheckRows(
      await this.runScript('quality/get_quality_checks.sql', {}, { run_id: runId }, now),
    );
  }

  /** What BigQueryWarehouse.recordFailedRun does. */
  async recordFailedRun(run: RunRow, now = run.updated_at): Promise<void> {
    await this.runScript('load/record_failed_run.sql', {}, recordFailedRunParameters(run), now);
  }

  /**
   * A staging table filled from the NDJSON the adapter's load job would upload: dropped first
   * (WRITE_TRUNCATE, like the load jobs), the NDJSON read with the table's schema.
   */
  private async stageRows(
    placeholder: StagingPlaceholder,
    name: string,
    rows: readonly object[],
  ): Promise<void> {
    const table = MERGE_STAGING_TABLES[placeholder];
    await this.connection.run(`drop table if exists ${DATASET}.${name}`);
    await this.connection.run(this.tableDdl(table, name));
    const lines = stagingPayload(table, rows)
      .body.toString('utf8')
      .split('\n')
      .filter((l) => l !== '');
    if (lines.length === 0) return;
    const values = lines.map((line) => {
      const row = JSON.parse(line) as Record<string, ParamValue>;
      return `(${table.columns.map((c) => literal(c.type, row[c.name])).join(', ')})`;
    });
    await this.connection.run(`insert into ${DATASET}.${name} values ${values.join(', ')}`);
  }

  /** What BigQueryWarehouse.loadHistoryChunk does: two staging tables, then merge_price_history.sql. */
  async loadHistoryChunk(
    batch: HistoryBatch,
    now = batch.loadStartedAt,
  ): Promise<{ pointsInserted: number }> {
    const identifiers = { staging_history: '_staging_history', staging_date: '_staging_date' };
    await this.stageRows('staging_history', identifiers.staging_history, batch.rows);
    await this.stageRows('staging_date', identifiers.staging_date, batch.dates);
    const [result] = await this.runScript(
      'load/merge_price_history.sql',
      identifiers,
      mergePriceHistoryParameters(batch),
      now,
    );
    if (result === undefined) throw new Error('merge_price_history.sql returned no result row');
    return { pointsInserted: Number(result[0]) };
  }

  /** What BigQueryWarehouse.recordFailedChunk does. */
  async recordFailedChunk(row: BackfillChunkRow, now = row.updated_at): Promise<void> {
    await this.runScript('load/record_failed_chunk.sql', {}, recordFailedChunkParameters(row), now);
  }

  async query(sql: string): Promise<Record<string, unknown>[]> {
    // The twin's own conversion, so both engines' tables compare value for value.
    return plainRows(await this.connection.runAndReadAll(sql));
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
