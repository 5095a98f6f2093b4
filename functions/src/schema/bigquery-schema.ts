import {
  dimAsset,
  dimDate,
  factMarketSnapshot,
  factPriceHistory,
  opsRejectedRecord,
  TABLES,
  type ColumnType,
  type TableDef,
} from './tables.js';

/**
 * BigQuery's view of the schema source of truth (tables.ts): the table specs Pulumi creates, the
 * `create table` DDL kept in sql/ddl/, the staging tables the load script reads and the named
 * parameters of every script. Everything here is derived; nothing is typed twice.
 */

/** A field of a BigQuery table schema, as the tables API (and Pulumi's `schema` JSON) takes it. */
export interface BigQueryField {
  name: string;
  type: 'STRING' | 'INTEGER' | 'FLOAT' | 'BOOLEAN' | 'DATE' | 'TIMESTAMP';
  mode: 'REQUIRED' | 'NULLABLE';
  description: string;
}

/** What Pulumi needs to create one table (gcp.bigquery.Table arguments, provider-neutral). */
export interface BigQueryTableSpec {
  tableId: string;
  description: string;
  schema: BigQueryField[];
  /** Daily partitioning on a DATE column, when the table is partitioned. */
  timePartitioning?: { type: 'DAY'; field: string };
  clustering?: string[];
  requirePartitionFilter: boolean;
}

/**
 * The tables API answers with the legacy names (INTEGER, FLOAT, BOOLEAN) whatever it was sent, so
 * the schema JSON uses them too: Pulumi then sees no difference between desired and actual state.
 */
const API_TYPE: Record<ColumnType, BigQueryField['type']> = {
  STRING: 'STRING',
  INT64: 'INTEGER',
  FLOAT64: 'FLOAT',
  BOOL: 'BOOLEAN',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
};

/** GoogleSQL type names, as the DDL and the SQL use them. */
const SQL_TYPE: Record<ColumnType, string> = {
  STRING: 'string',
  INT64: 'int64',
  FLOAT64: 'float64',
  BOOL: 'bool',
  DATE: 'date',
  TIMESTAMP: 'timestamp',
};

/** The BigQuery schema fields of a table, in column order. */
export function bigQuerySchema(table: TableDef): BigQueryField[] {
  return table.columns.map((c) => ({
    name: c.name,
    type: API_TYPE[c.type],
    mode: c.required === true ? 'REQUIRED' : 'NULLABLE',
    description: c.description,
  }));
}

/** Everything Pulumi needs to create `table`; `JSON.stringify(spec.schema)` is the `schema` argument. */
export function bigQueryTableSpec(table: TableDef): BigQueryTableSpec {
  const spec: BigQueryTableSpec = {
    tableId: table.name,
    description: table.description,
    schema: bigQuerySchema(table),
    requirePartitionFilter: table.requirePartitionFilter === true,
  };
  if (table.partitionBy !== undefined) spec.timePartitioning = { type: 'DAY', field: table.partitionBy };
  if (table.clusterBy !== undefined && table.clusterBy.length > 0) spec.clustering = [...table.clusterBy];
  return spec;
}

/** A GoogleSQL string literal: single-quoted, with backslash escapes. */
export function sqlStringLiteral(text: string): string {
  const escaped = text
    .replace(/\\/g, '\\\\')
    .replace(/'/g, "\\'")
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r');
  return `'${escaped}'`;
}

/** The file of the generated DDL of a table, relative to sql/. */
export const ddlFile = (table: TableDef): string => `ddl/${table.name}.sql`;

/**
 * `create table if not exists` for BigQuery, with partitioning, clustering, the partition-filter
 * requirement and every description. `dataset` defaults to the `{{dataset}}` placeholder that
 * renderSql fills, which is how the files in sql/ddl/ are written.
 */
export function bigQueryDdl(table: TableDef, dataset = '{{dataset}}'): string {
  const width = Math.max(...table.columns.map((c) => c.name.length));
  const columns = table.columns.map((c) => {
    const notNull = c.required === true ? ' not null' : '';
    const type = `${SQL_TYPE[c.type]}${notNull}`;
    return `  ${c.name.padEnd(width)} ${type.padEnd(18)} options (description = ${sqlStringLiteral(c.description)})`;
  });
  const options = [
    ...(table.requirePartitionFilter === true ? ['  require_partition_filter = true'] : []),
    `  description = ${sqlStringLiteral(table.description)}`,
  ];
  return [
    `-- Generated from functions/src/schema/tables.ts by \`npx tsx scripts/generate-ddl.ts\`; do not edit.`,
    `-- Pulumi creates the tables from the same source; this DDL is for bootstrapping by hand and for`,
    `-- the ZetaSQL check that the schema is valid BigQuery.`,
    `create table if not exists ${dataset}.${table.name} (`,
    columns.join(',\n'),
    ')',
    ...(table.partitionBy !== undefined ? [`partition by ${table.partitionBy}`] : []),
    ...(table.clusterBy !== undefined && table.clusterBy.length > 0
      ? [`cluster by ${table.clusterBy.join(', ')}`]
      : []),
    'options (',
    options.join(',\n'),
    ');',
    '',
  ].join('\n');
}

/** Every table's DDL file (relative to sql/) and its generated text. */
export function generatedDdlFiles(tables: readonly TableDef[] = TABLES): Map<string, string> {
  return new Map(tables.map((t) => [ddlFile(t), bigQueryDdl(t)]));
}

/**
 * The per-run staging tables load/merge_run.sql reads, by placeholder: each is loaded by a load job
 * with the schema of the table it feeds, so its columns are exactly that table's.
 */
export const MERGE_STAGING_TABLES = {
  staging_fact: factMarketSnapshot,
  staging_asset: dimAsset,
  staging_date: dimDate,
  staging_rejected: opsRejectedRecord,
  // load/merge_price_history.sql: one backfill chunk's points (with staging_date for its calendar).
  staging_history: factPriceHistory,
} as const satisfies Record<string, TableDef>;
export type StagingPlaceholder = keyof typeof MERGE_STAGING_TABLES;

/** Type of a named query parameter (BigQuery needs it for NULL values, and ZetaSQL to analyse). */
export type ParameterType = ColumnType;

/**
 * The named parameters of each script under sql/, with their types. Values are never spliced into
 * SQL; the BigQuery adapter passes these as `params` with these `types`, and the ZetaSQL tests
 * declare exactly these, so a parameter used but not declared (or declared but unused) fails.
 */
export const SQL_PARAMETERS = {
  'load/merge_run.sql': {
    run_id: 'STRING',
    source: 'STRING',
    vs_currency: 'STRING',
    slot_ts: 'TIMESTAMP',
    snapshot_date: 'DATE',
    raw_object: 'STRING',
    raw_generation: 'STRING',
    records_in: 'INT64',
    records_rejected: 'INT64',
    records_duplicate: 'INT64',
    load_started_at: 'TIMESTAMP',
  },
  'load/record_failed_run.sql': {
    run_id: 'STRING',
    source: 'STRING',
    vs_currency: 'STRING',
    slot_ts: 'TIMESTAMP',
    raw_object: 'STRING',
    raw_generation: 'STRING',
    error_code: 'STRING',
    error_message: 'STRING',
  },
  'load/get_run.sql': {
    run_id: 'STRING',
  },
  'quality/get_quality_checks.sql': {
    run_id: 'STRING',
  },
  'quality/record_quality_checks.sql': {
    run_id: 'STRING',
    snapshot_date: 'DATE',
    expected_records: 'INT64',
    records_in: 'INT64',
    records_rejected: 'INT64',
    freshness_max_seconds: 'INT64',
  },
  'load/merge_price_history.sql': {
    chunk_id: 'STRING',
    coin_id: 'STRING',
    vs_currency: 'STRING',
    granularity: 'STRING',
    range_from: 'TIMESTAMP',
    range_to: 'TIMESTAMP',
    first_date: 'DATE',
    last_date: 'DATE',
    raw_object: 'STRING',
    raw_generation: 'STRING',
    points_in: 'INT64',
    points_rejected: 'INT64',
  },
  'load/record_failed_chunk.sql': {
    chunk_id: 'STRING',
    coin_id: 'STRING',
    vs_currency: 'STRING',
    granularity: 'STRING',
    range_from: 'TIMESTAMP',
    range_to: 'TIMESTAMP',
    raw_object: 'STRING',
    raw_generation: 'STRING',
    error_code: 'STRING',
    error_message: 'STRING',
  },
  'load/get_chunk.sql': {
    chunk_id: 'STRING',
  },
  // cloud-check (ops/cloud-check) waits for a run with it.
  'ops/recent_run.sql': {
    triggered_at: 'TIMESTAMP',
    cadence_minutes: 'INT64',
  },
} as const satisfies Record<string, Record<string, ParameterType>>;
export type ParameterisedSqlFile = keyof typeof SQL_PARAMETERS;

/** The views under sql/views/, in an order in which they can be created. */
export const VIEW_FILES = [
  'views/v_dim_asset.sql',
  'views/v_market_snapshot.sql',
  'views/v_latest_snapshot.sql',
  'views/v_daily_ohlc.sql',
  'views/v_daily_indicators.sql',
  'views/v_market_dominance.sql',
  'views/v_top_movers.sql',
  'views/v_run_health.sql',
  'views/v_freshness.sql',
  'views/v_price_history.sql',
] as const;
