import type { QualityCheckRow } from '../schema/tables.js';

/**
 * The data-quality assertions run after every load (issue 11), scoped to the run just loaded so
 * they stay cheap. Both engines evaluate them in one statement each (the twin's DuckDB SQL in
 * twin/src/adapters/duckdb-quality.ts, BigQuery's in sql/quality/record_quality_checks.sql); this
 * catalogue is what they agree on: names, severities and bounds. tests/sql/quality-checks-executed
 * proves both engines write the same rows for the same batches, and that they are these checks.
 *
 * Severity `error` marks a broken integrity rule (the star schema can no longer be trusted),
 * `warning` data that is suspicious but loaded as the source sent it.
 */
export type QualitySeverity = 'error' | 'warning';
export type QualityStatus = 'pass' | 'fail';

export interface QualityCheckDef {
  readonly name: string;
  readonly severity: QualitySeverity;
  /** What a failure means, for the README and people reading the table. */
  readonly description: string;
}

/** Every check, in the order the engines write them (alphabetical, as they are read back). */
export const QUALITY_CHECKS = [
  {
    name: 'asset_dimension',
    severity: 'error',
    description: "fact rows of the run whose asset has no dim_asset version in effect at the row's slot",
  },
  {
    name: 'circulating_above_total_supply',
    severity: 'warning',
    description: 'coins whose circulating supply exceeds their total supply',
  },
  {
    name: 'date_dimension',
    severity: 'error',
    description: 'fact rows of the run whose date_key is missing from dim_date',
  },
  {
    name: 'freshness',
    severity: 'warning',
    description: "median age of the source's last_updated at the slot above the bound (seconds)",
  },
  {
    name: 'grain_unique',
    severity: 'error',
    description: 'fact rows of the run beyond the first for one asset, currency and slot',
  },
  {
    name: 'keys_not_null',
    severity: 'error',
    description: 'fact rows of the run with a null key (date, asset, coin id, currency, slot)',
  },
  {
    name: 'price_above_ath',
    severity: 'warning',
    description: 'coins whose current price is above their all-time high',
  },
  {
    name: 'price_outside_24h_range',
    severity: 'warning',
    description: 'coins whose current price is outside their 24h low-high range',
  },
  {
    name: 'record_count',
    severity: 'warning',
    description: 'fewer coins loaded than the run asked for (COIN_LIMIT); an empty [] response loads none',
  },
  {
    name: 'rejected_records',
    severity: 'warning',
    description:
      'records of the response that were not loaded (invalid or duplicated), see ops_rejected_record',
  },
] as const satisfies readonly QualityCheckDef[];

export type QualityCheckName = (typeof QUALITY_CHECKS)[number]['name'];

/**
 * Median age (slot minus the source's `last_updated`) above which a run's data counts as stale.
 * CoinGecko refreshes its markets every minute or so; an hour behind the slot means it served old
 * data (the corpus holds `last_updated` up to 12 days old for single coins, which the median
 * ignores).
 */
export const FRESHNESS_MAX_MEDIAN_AGE_SECONDS = 3600;

/** What a quality query needs besides the tables: the run and the bounds it is held to. */
export interface QualityCheckInput {
  runId: string;
  slot: Date;
  /** Coins the run asked for (the manifest's coinLimit, from COIN_LIMIT at extract time). */
  expectedRecords: number;
  /** Records in the response, and how many of them were not loaded. */
  recordsIn: number;
  recordsRejected: number;
  freshnessMaxMedianAgeSeconds: number;
}

/** A failed check: an error, or a warning. */
export const isFailure = (row: Pick<QualityCheckRow, 'status'>): boolean => row.status === 'fail';

/**
 * The checks of the catalogue that have no row among `recorded` (one run's rows). Every check is
 * recorded by one statement, so a run has all of them or none; a check added to the catalogue
 * after a run was loaded also counts as missing, and recording the run's checks again adds it.
 */
export function missingQualityChecks(
  recorded: readonly Pick<QualityCheckRow, 'check_name'>[],
): QualityCheckName[] {
  const present = new Set(recorded.map((r) => r.check_name));
  return QUALITY_CHECKS.map((c) => c.name).filter((name) => !present.has(name));
}
