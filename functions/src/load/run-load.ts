import type { RunEvent } from '../core/event.js';
import { describeError, PipelineError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Clock, RawObjectRef, RawReader } from '../core/ports.js';
import { decodeRawObject, type FailureRecord } from '../core/raw-object.js';
import type { Warehouse } from '../core/warehouse.js';
import type { RunRow } from '../schema/tables.js';
import { logQualityFailures } from '../quality/log-failures.js';
import { isFailure, missingQualityChecks } from '../quality/checks.js';
import { buildStarBatch } from '../transform/star-rows.js';
import { LoadError } from './errors.js';

export interface LoadDeps {
  lake: RawReader;
  warehouse: Warehouse;
  clock: Clock;
  logger: Logger;
}

export interface LoadSummary {
  /**
   * `already_loaded`: a previous delivery loaded this run's facts; at most the run's missing quality
   * checks were written (`qualityFailures` is then set).
   */
  status: 'loaded' | 'already_loaded' | 'failure_recorded' | 'rejected';
  runId: string;
  recordsIn: number;
  factRowsInserted: number;
  rejected: number;
  duplicates: number;
  assetVersionsInserted: number;
  durationMs: number;
  error?: { code: string; message: string };
  /**
   * The data-quality checks this load failed (functions/src/quality/checks.ts), set when this
   * delivery recorded the run's checks; each one is also logged (WARNING or ERROR).
   */
  qualityFailures?: QualityFailure[];
}

/** A failed data-quality check, as a run's summary reports it. */
export interface QualityFailure {
  checkName: string;
  severity: 'error' | 'warning';
  message: string;
}

const refOf = (event: RunEvent): RawObjectRef => ({
  bucket: event.bucket,
  key: event.object,
  generation: event.generation,
});

function failedRunRow(event: RunEvent, error: { code: string; message: string }, now: Date): RunRow {
  return {
    run_id: event.runId,
    source: event.source,
    vs_currency: event.vsCurrency,
    slot_ts: new Date(event.slot),
    status: 'failed',
    raw_object: event.object,
    raw_generation: event.generation,
    records_in: null,
    records_loaded: null,
    records_rejected: null,
    records_duplicate: null,
    asset_versions_new: null,
    load_started_at: null,
    load_finished_at: null,
    error_code: error.code,
    error_message: error.message.slice(0, 2000),
    updated_at: now,
  };
}

/**
 * Loads one run into the warehouse (ARCHITECTURE.md §2, §4). Idempotent: a run already loaded from
 * the same object generation, with its quality checks recorded, is skipped; otherwise the warehouse
 * applies the batch on the fact's grain (a run loaded without its checks is applied again: nothing
 * is written twice, and the checks are recorded). Terminal problems with the data (unreadable or mismatched raw object) are recorded as a
 * failed run and returned, so the message is acknowledged; transient ones are thrown for redelivery.
 */
export async function runLoad(event: RunEvent, deps: LoadDeps): Promise<LoadSummary> {
  const started = deps.clock.now();
  const base = {
    runId: event.runId,
    recordsIn: 0,
    factRowsInserted: 0,
    rejected: 0,
    duplicates: 0,
    assetVersionsInserted: 0,
  };
  const elapsed = () => deps.clock.now().getTime() - started.getTime();

  if (event.kind === 'run_failed') {
    const error = event.error ?? (await failureFromLake(event, deps));
    await deps.warehouse.recordFailedRun(failedRunRow(event, error, deps.clock.now()));
    deps.logger.log('WARNING', `recorded failed run ${event.runId}: ${error.message}`, {
      runId: event.runId,
    });
    return { ...base, status: 'failure_recorded', durationMs: elapsed(), error };
  }

  const previous = await deps.warehouse.getRun(event.runId);
  if (previous?.status === 'loaded' && previous.raw_generation === event.generation) {
    // BigQuery records the checks in a job after the merge committed the run. When that job failed,
    // this redelivery is the only chance to record them: skipping would leave the run unchecked.
    const missing = missingQualityChecks(await deps.warehouse.getQualityChecks(event.runId));
    if (missing.length === 0) {
      deps.logger.log('INFO', `run ${event.runId} already loaded; nothing to do`, { runId: event.runId });
      return {
        ...base,
        status: 'already_loaded',
        recordsIn: previous.records_in ?? 0,
        rejected: previous.records_rejected ?? 0,
        duplicates: previous.records_duplicate ?? 0,
        durationMs: elapsed(),
      };
    }
    deps.logger.log(
      'WARNING',
      `run ${event.runId} loaded without ${missing.length} of its quality checks; applying it again to record them`,
      { runId: event.runId, missingChecks: missing },
    );
  }

  try {
    const bytes = await deps.lake.read(refOf(event));
    let decoded;
    try {
      decoded = decodeRawObject(bytes);
    } catch (e) {
      throw new LoadError(`${event.object}: ${(e as Error).message}`, {
        code: 'raw_object_malformed',
        retryable: false,
      });
    }
    if (decoded.manifest.runId !== event.runId) {
      throw new LoadError(`event for ${event.runId} points at the raw object of ${decoded.manifest.runId}`, {
        code: 'event_object_mismatch',
        retryable: false,
      });
    }
    const batch = buildStarBatch(decoded, refOf(event), started);
    const outcome = await deps.warehouse.loadBatch(batch);
    const summary: LoadSummary = {
      // A concurrent duplicate delivery finds every row already there.
      status: outcome.factRowsInserted === 0 && batch.facts.length > 0 ? 'already_loaded' : 'loaded',
      runId: event.runId,
      recordsIn: batch.counts.recordsIn,
      factRowsInserted: outcome.factRowsInserted,
      rejected: batch.counts.rejected,
      duplicates: batch.counts.duplicates,
      assetVersionsInserted: outcome.assetVersionsInserted,
      durationMs: elapsed(),
    };
    // Logged and reported by the delivery that recorded the checks, so a redelivery repeats no
    // alert, and a run whose checks a later delivery recorded still raises its alerts once.
    if (outcome.qualityChecksRecorded) {
      summary.qualityFailures = outcome.qualityChecks.filter(isFailure).map((c) => ({
        checkName: c.check_name,
        severity: c.severity === 'error' ? 'error' : 'warning',
        message: c.message,
      }));
    }
    deps.logger.log(
      'INFO',
      `loaded ${event.runId}: ${summary.factRowsInserted} rows, ${summary.rejected} rejected`,
      { ...summary },
    );
    if (outcome.qualityChecksRecorded) logQualityFailures(deps.logger, outcome.qualityChecks);
    return summary;
  } catch (error) {
    if (error instanceof PipelineError && !error.retryable) {
      const described = describeError(error);
      await deps.warehouse.recordFailedRun(failedRunRow(event, described, deps.clock.now()));
      deps.logger.log('ERROR', `load ${event.runId} failed for good: ${described.message}`, {
        runId: event.runId,
        code: described.code,
      });
      return { ...base, status: 'rejected', durationMs: elapsed(), error: described };
    }
    throw error;
  }
}

/** Older `run_failed` events may not carry the error: read it from the failure record. */
async function failureFromLake(event: RunEvent, deps: LoadDeps): Promise<{ code: string; message: string }> {
  try {
    const record = JSON.parse((await deps.lake.read(refOf(event))).toString('utf8')) as FailureRecord;
    return { code: record.error.code, message: record.error.message };
  } catch (e) {
    return { code: 'unknown', message: `failure record unreadable: ${describeError(e).message}` };
  }
}
