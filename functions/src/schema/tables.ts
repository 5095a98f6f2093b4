/**
 * The one schema source of truth (ARCHITECTURE.md §3). The BigQuery table schemas Pulumi creates,
 * the DuckDB DDL of the local twin and the catalog ZetaSQL checks SQL against are all generated
 * from these definitions; the TypeScript row types below are derived from them too.
 */
export type ColumnType = 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'DATE' | 'TIMESTAMP';

export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
  readonly required?: boolean;
  readonly description: string;
}

export interface TableDef {
  readonly name: string;
  readonly description: string;
  readonly columns: readonly ColumnDef[];
  /** Columns that identify a row; enforced as a primary key in DuckDB, by MERGE in BigQuery. */
  readonly key: readonly string[];
  /** BigQuery: DATE column for daily partitioning. */
  readonly partitionBy?: string;
  readonly clusterBy?: readonly string[];
  readonly requirePartitionFilter?: boolean;
}

/** Keeps name, type and requiredness as literal types, so row types can be derived below. */
function col<N extends string, T extends ColumnType, R extends boolean = false>(
  name: N,
  type: T,
  description: string,
  required?: R,
): { name: N; type: T; description: string; required: R } {
  return { name, type, description, required: (required ?? false) as R };
}

/** Numeric market fields: FLOAT64 because prices reach 1e-9 and supplies 1e15. */
export const MARKET_NUMBER_FIELDS = [
  'current_price',
  'market_cap',
  'fully_diluted_valuation',
  'total_volume',
  'high_24h',
  'low_24h',
  'price_change_24h',
  'price_change_percentage_24h',
  'market_cap_change_24h',
  'market_cap_change_percentage_24h',
  'circulating_supply',
  'total_supply',
  'max_supply',
  'ath',
  'ath_change_percentage',
  'atl',
  'atl_change_percentage',
] as const;
export type MarketNumberField = (typeof MARKET_NUMBER_FIELDS)[number];

export const factMarketSnapshot = {
  name: 'fact_market_snapshot',
  description: 'One row per asset, quote currency and slot: a CoinGecko /coins/markets snapshot.',
  columns: [
    col('snapshot_date', 'DATE', 'UTC date of the slot; the partitioning column.', true),
    col('date_key', 'INT64', 'Key to dim_date (YYYYMMDD of the slot).', true),
    col('asset_key', 'INT64', 'Durable key to dim_asset (hash of the CoinGecko id).', true),
    col('coin_id', 'STRING', 'CoinGecko coin id (degenerate natural key).', true),
    col('vs_currency', 'STRING', 'Quote currency of every price field.', true),
    col('slot_ts', 'TIMESTAMP', 'Scheduled time of the run, floored to the cadence.', true),
    col('last_updated', 'TIMESTAMP', "Source's own last_updated for this coin."),
    col('market_cap_rank', 'INT64', 'Rank by market cap at the time (may be null).'),
    ...MARKET_NUMBER_FIELDS.map((f) => col(f, 'FLOAT64', `CoinGecko ${f}.`)),
    col('ath_date', 'TIMESTAMP', 'Time of the all-time high.'),
    col('atl_date', 'TIMESTAMP', 'Time of the all-time low.'),
    col('roi_times', 'FLOAT64', 'ROI multiple since ICO, when CoinGecko reports one.'),
    col('roi_currency', 'STRING', 'Currency of the ROI figure.'),
    col('roi_percentage', 'FLOAT64', 'ROI percentage.'),
    col('run_id', 'STRING', 'Run that loaded this row.', true),
    col('loaded_at', 'TIMESTAMP', 'When the row was loaded.', true),
  ],
  key: ['asset_key', 'vs_currency', 'slot_ts'],
  partitionBy: 'snapshot_date',
  clusterBy: ['asset_key'],
  requirePartitionFilter: true,
} as const satisfies TableDef;

export const dimAsset = {
  name: 'dim_asset',
  description:
    'Asset versions (type 2 on symbol, name, image). A version is valid from valid_from until the next version of the same asset; see view v_dim_asset.',
  columns: [
    col('asset_version_key', 'INT64', 'Key of this version (hash of coin id and valid_from).', true),
    col('asset_key', 'INT64', 'Durable key of the asset (hash of the CoinGecko id).', true),
    col('coin_id', 'STRING', 'CoinGecko id: stable, unlike symbols which are not unique.', true),
    col('symbol', 'STRING', 'Ticker symbol as CoinGecko reports it.', true),
    col('name', 'STRING', 'Display name.', true),
    col('image_url', 'STRING', 'Logo URL.'),
    col('attributes_hash', 'STRING', 'Hash of the versioned attributes, to detect changes.', true),
    col('valid_from', 'TIMESTAMP', 'Slot from which this version applies.', true),
    col('run_id', 'STRING', 'Run that created this version.', true),
    col('loaded_at', 'TIMESTAMP', 'When this version was loaded.', true),
  ],
  key: ['asset_key', 'valid_from'],
  clusterBy: ['asset_key'],
} as const satisfies TableDef;

export const dimDate = {
  name: 'dim_date',
  description: 'Calendar attributes of every date a fact row references.',
  columns: [
    col('date_key', 'INT64', 'YYYYMMDD.', true),
    col('date', 'DATE', 'The calendar date (UTC).', true),
    col('year', 'INT64', 'Calendar year.', true),
    col('quarter', 'INT64', 'Quarter 1-4.', true),
    col('month', 'INT64', 'Month 1-12.', true),
    col('month_name', 'STRING', 'January ... December.', true),
    col('day_of_month', 'INT64', 'Day 1-31.', true),
    col('day_of_week', 'INT64', 'ISO day of week, 1 = Monday.', true),
    col('day_name', 'STRING', 'Monday ... Sunday.', true),
    col('iso_year', 'INT64', 'ISO 8601 week-numbering year.', true),
    col('iso_week', 'INT64', 'ISO 8601 week 1-53.', true),
    col('is_weekend', 'BOOL', 'Saturday or Sunday.', true),
  ],
  key: ['date_key'],
} as const satisfies TableDef;

export const opsRun = {
  name: 'ops_run',
  description: 'One row per run: status, counts and timings. Failed runs are recorded with their error.',
  columns: [
    col('run_id', 'STRING', 'Run id: source, currency and slot.', true),
    col('source', 'STRING', 'Market data source.', true),
    col('vs_currency', 'STRING', 'Quote currency.', true),
    col('slot_ts', 'TIMESTAMP', 'Slot of the run.', true),
    col('status', 'STRING', 'loaded | failed.', true),
    col('raw_object', 'STRING', 'Lake object of the raw response or of the failed attempt.'),
    col('raw_generation', 'STRING', 'Generation of that object.'),
    col('records_in', 'INT64', 'Records in the raw response.'),
    col('records_loaded', 'INT64', 'Fact rows this run wrote.'),
    col('records_rejected', 'INT64', 'Records rejected (invalid or duplicated), see ops_rejected_record.'),
    col('records_duplicate', 'INT64', 'Of the rejected, duplicated coin ids within the snapshot.'),
    col('asset_versions_new', 'INT64', 'dim_asset versions this run created.'),
    col('load_started_at', 'TIMESTAMP', 'When the load began.'),
    col('load_finished_at', 'TIMESTAMP', 'When the load finished.'),
    col('error_code', 'STRING', 'Error code of a failed run.'),
    col('error_message', 'STRING', 'Error message of a failed run.'),
    col('updated_at', 'TIMESTAMP', 'Last change of this row.', true),
  ],
  key: ['run_id'],
} as const satisfies TableDef;

export const opsRejectedRecord = {
  name: 'ops_rejected_record',
  description: 'Every record a run did not load, with the reason; the raw record is kept verbatim.',
  columns: [
    col('run_id', 'STRING', 'Run the record came from.', true),
    col('slot_ts', 'TIMESTAMP', 'Slot of the run.', true),
    col('record_index', 'INT64', 'Position of the record in the response (0-based across pages).', true),
    col('coin_id', 'STRING', 'The id, when the record had one.'),
    col('reason', 'STRING', 'Why it was rejected.', true),
    col('raw_record', 'STRING', 'The record as JSON.', true),
    col('rejected_at', 'TIMESTAMP', 'When it was rejected.', true),
  ],
  key: ['run_id', 'record_index'],
} as const satisfies TableDef;

export const opsQualityCheck = {
  name: 'ops_quality_check',
  description:
    'Data-quality assertions checked after each load, scoped to the run (functions/src/quality/checks.ts): one row per run and check.',
  columns: [
    col('run_id', 'STRING', 'Run the check looked at.', true),
    col('check_name', 'STRING', 'Which check (grain_unique, record_count, price_above_ath, ...).', true),
    col('severity', 'STRING', 'error (integrity broken) | warning (suspicious data).', true),
    col('status', 'STRING', 'pass | fail.', true),
    col('observed', 'FLOAT64', 'What the check measured (a row count, a median age in seconds).'),
    col('expected', 'FLOAT64', 'The bound it was held to.'),
    col('message', 'STRING', 'What was found, in words.', true),
    col('checked_at', 'TIMESTAMP', 'When the check ran.', true),
  ],
  key: ['run_id', 'check_name'],
  clusterBy: ['run_id'],
} as const satisfies TableDef;

/**
 * Backfilled history from /coins/{id}/market_chart/range: a fact of its own beside the snapshot
 * fact, so history is never mixed up with live snapshots (v_price_history unions the two, labelled).
 */
export const factPriceHistory = {
  name: 'fact_price_history',
  description:
    'One row per asset, quote currency, granularity and hour or UTC day: backfilled CoinGecko market_chart history.',
  columns: [
    col('history_date', 'DATE', 'UTC date of ts; the partitioning column.', true),
    col('date_key', 'INT64', 'Key to dim_date (YYYYMMDD of ts).', true),
    col('asset_key', 'INT64', 'Durable key to dim_asset (hash of the CoinGecko id).', true),
    col('coin_id', 'STRING', 'CoinGecko coin id.', true),
    col('vs_currency', 'STRING', 'Quote currency of price, market_cap and total_volume.', true),
    col('granularity', 'STRING', 'daily | hourly.', true),
    col('ts', 'TIMESTAMP', 'Start of the hour or UTC day the point stands for.', true),
    col('source_ts', 'TIMESTAMP', "CoinGecko's own timestamp of the point (off the grid).", true),
    col('price', 'FLOAT64', 'Price.', true),
    col('market_cap', 'FLOAT64', 'Market cap; null where CoinGecko reports 0 (unknown).'),
    col('total_volume', 'FLOAT64', '24 h volume.'),
    col('chunk_id', 'STRING', 'Backfill chunk (market_chart/range call) that loaded this row.', true),
    col('loaded_at', 'TIMESTAMP', 'When the row was loaded.', true),
  ],
  key: ['asset_key', 'vs_currency', 'granularity', 'ts'],
  partitionBy: 'history_date',
  clusterBy: ['asset_key'],
  requirePartitionFilter: true,
} as const satisfies TableDef;

export const opsBackfillChunk = {
  name: 'ops_backfill_chunk',
  description: 'One row per backfill chunk (one market_chart/range call): status, counts, error.',
  columns: [
    col('chunk_id', 'STRING', 'Chunk id: coin, currency, granularity and range.', true),
    col('coin_id', 'STRING', 'CoinGecko coin id.', true),
    col('vs_currency', 'STRING', 'Quote currency.', true),
    col('granularity', 'STRING', 'daily | hourly.', true),
    col('range_from', 'TIMESTAMP', 'Start of the range (inclusive).', true),
    col('range_to', 'TIMESTAMP', 'End of the range (exclusive).', true),
    col('status', 'STRING', 'loaded | failed.', true),
    col('raw_object', 'STRING', 'Lake object of the answer or of the failed fetch.'),
    col('raw_generation', 'STRING', 'Generation of that object.'),
    col('points_in', 'INT64', 'Points in the answer.'),
    col('points_loaded', 'INT64', 'Rows this chunk added (0 when others had them already).'),
    col('points_rejected', 'INT64', 'Points that were not [timestamp, non-negative price].'),
    col('error_code', 'STRING', 'Error code of a failed chunk.'),
    col('error_message', 'STRING', 'Error message of a failed chunk.'),
    col('updated_at', 'TIMESTAMP', 'Last change of this row.', true),
  ],
  key: ['chunk_id'],
} as const satisfies TableDef;

export const TABLES = [
  factMarketSnapshot,
  dimAsset,
  dimDate,
  opsRun,
  opsRejectedRecord,
  opsQualityCheck,
  factPriceHistory,
  opsBackfillChunk,
] as const;

type TsType<T extends ColumnType> = T extends 'STRING'
  ? string
  : T extends 'INT64' | 'FLOAT64'
    ? number
    : T extends 'BOOL'
      ? boolean
      : T extends 'DATE'
        ? string // YYYY-MM-DD
        : Date; // TIMESTAMP

type Columns<T extends TableDef> = T['columns'][number];
/** The TypeScript row of a table: required columns are non-null, the others may be null. */
export type RowOf<T extends TableDef> = {
  [C in Columns<T> as C['name']]: C extends { required: true } ? TsType<C['type']> : TsType<C['type']> | null;
};

export type FactRow = RowOf<typeof factMarketSnapshot>;
export type AssetVersionRow = RowOf<typeof dimAsset>;
export type DateRow = RowOf<typeof dimDate>;
export type RunRow = RowOf<typeof opsRun>;
export type RejectedRow = RowOf<typeof opsRejectedRecord>;
export type QualityCheckRow = RowOf<typeof opsQualityCheck>;
export type PriceHistoryRow = RowOf<typeof factPriceHistory>;
export type BackfillChunkRow = RowOf<typeof opsBackfillChunk>;
