import type { RawObjectRef } from './ports.js';
import type {
  AssetVersionRow,
  DateRow,
  FactRow,
  QualityCheckRow,
  RejectedRow,
  RunRow,
} from '../schema/tables.js';

/**
 * Everything one run writes to the warehouse, computed in TypeScript so keys and history are
 * identical in DuckDB and BigQuery. The warehouse applies it idempotently in one transaction.
 */
export interface StarBatch {
  runId: string;
  source: string;
  vsCurrency: string;
  slot: Date;
  raw: RawObjectRef;
  facts: FactRow[];
  /**
   * One candidate version per asset in the snapshot, valid from the slot. The warehouse applies
   * them so that the history does not depend on the order of loads (type 2): a candidate opens a
   * version only when the version in effect at its slot has other attributes, and a late one moves
   * or splits versions (twin/src/adapters/asset-history.ts, sql/load/merge_run.sql).
   */
  assetCandidates: AssetVersionRow[];
  dates: DateRow[];
  rejected: RejectedRow[];
  counts: { recordsIn: number; rejected: number; duplicates: number };
  /** Coins the run asked for (the manifest's coinLimit): the quality check's expected record count. */
  expectedRecords: number;
  loadStartedAt: Date;
}

export interface LoadOutcome {
  /** Fact rows inserted by this call (0 when a previous delivery already loaded the run). */
  factRowsInserted: number;
  assetVersionsInserted: number;
  /** The run record as it stands after this call. */
  run: RunRow;
  /**
   * The run's data-quality checks (functions/src/quality/checks.ts) as stored, checked in the same
   * load; a redelivery finds the first delivery's rows and writes none.
   */
  qualityChecks: QualityCheckRow[];
  /**
   * True when this call recorded the checks; false when an earlier (or concurrent) delivery had.
   * The load that records them reports their failures, so an alert is raised once per run even
   * when the checks were recorded by a later delivery than the one that loaded the facts.
   */
  qualityChecksRecorded: boolean;
}

/** Warehouse port: DuckDB in the twin, BigQuery in the cloud. */
export interface Warehouse {
  /** Creates missing tables and views; safe to call on every start. */
  ensureSchema(): Promise<void>;
  /** Applies a batch: dimensions, fact (insert-only on its grain), rejected records, run record. */
  loadBatch(batch: StarBatch): Promise<LoadOutcome>;
  /** Records a failed attempt, unless the run has already been loaded successfully. */
  recordFailedRun(run: RunRow): Promise<void>;
  getRun(runId: string): Promise<RunRow | undefined>;
  /**
   * The run's data-quality checks as stored (none for an unknown run). A run counts as loaded only
   * with its checks: BigQuery records them in a job after the merge committed, and when that job
   * fails the redelivery must record them (functions/src/load/run-load.ts).
   */
  getQualityChecks(runId: string): Promise<QualityCheckRow[]>;
}
