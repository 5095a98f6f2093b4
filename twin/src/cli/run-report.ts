import { describeError } from '../../../functions/src/core/errors.js';
import { runIdentity } from '../../../functions/src/core/run-identity.js';
import type { ExtractSummary } from '../../../functions/src/extract/run-extract.js';
import type { LoadSummary, QualityFailure } from '../../../functions/src/load/run-load.js';
import type { Twin } from '../twin.js';

/** What one run did, end to end: extract, then the load its event triggered. */
export interface RunResult {
  label: string;
  /** The run's identity; known even when the run failed before extracting (null: no slot known). */
  runId: string | null;
  extract?: ExtractSummary;
  load?: LoadSummary;
  /** Set when the run failed at any stage (the run table has it too). */
  error?: string;
}

export const runFailed = (r: RunResult): boolean =>
  r.error !== undefined || r.extract?.status === 'failed' || r.load?.status === 'rejected';

/** One sentence per run, shared by `run` and `start` so both read the same. */
export function describeRun(r: RunResult): string {
  const head = `${r.runId ?? r.label}:`;
  if (r.error) return `${head} FAILED ${r.error}`;
  const e = r.extract!;
  const extract =
    e.status === 'already_extracted'
      ? 'already in the lake (event re-published)'
      : `extracted ${e.records} records in ${e.pages} page(s)`;
  const l = r.load;
  const load = !l
    ? 'load did not complete (event dead-lettered: see `status`)'
    : l.status === 'already_loaded'
      ? 'already loaded, nothing written'
      : l.status === 'rejected'
        ? `load FAILED ${l.error?.message}`
        : `loaded ${l.factRowsInserted} rows, rejected ${l.rejected} (duplicates ${l.duplicates}), ${l.assetVersionsInserted} new asset versions`;
  return `${head} ${extract}; ${load}${describeQuality(l?.qualityFailures ?? [])}`;
}

/** `; quality: 1 error (asset_dimension), 2 warnings (record_count, price_above_ath)`, or nothing. */
function describeQuality(failures: readonly QualityFailure[]): string {
  const part = (severity: QualityFailure['severity']) => {
    const names = failures.filter((f) => f.severity === severity).map((f) => f.checkName);
    if (names.length === 0) return [];
    return [`${names.length} ${severity}${names.length > 1 ? 's' : ''} (${names.join(', ')})`];
  };
  const parts = [...part('error'), ...part('warning')];
  return parts.length === 0 ? '' : `; quality: ${parts.join(', ')}`;
}

/** The run id a slot gets, for reporting runs that failed before extract named them. */
export function runIdFor(twin: Twin, time: Date, vsCurrency: string = twin.config.vsCurrency): string {
  return runIdentity(time, vsCurrency, twin.config.cadenceMinutes).runId;
}

/** Extracts the slot containing `time` in one currency and waits for its load (or dead letter). */
export async function oneRun(
  twin: Twin,
  label: string,
  time: Date,
  vsCurrency: string = twin.config.vsCurrency,
): Promise<RunResult> {
  const runId = runIdFor(twin, time, vsCurrency);
  const before = twin.loads.length;
  let extract: ExtractSummary;
  try {
    extract = await twin.extract(time, vsCurrency);
  } catch (error) {
    await twin.settle(); // the failure event still reaches the run table
    return { label, runId, error: describeError(error).message };
  }
  await twin.settle();
  const load = twin.loads.slice(before).findLast((l) => l.runId === extract.runId);
  return { label, runId: extract.runId, extract, load };
}

/**
 * Every configured currency's run for the slot containing `time`, one after another: each is its
 * own run (its own id, object and load), so one currency's failure never stops another's.
 */
export async function slotRuns(twin: Twin, label: string, time: Date): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const vsCurrency of twin.config.vsCurrencies)
    results.push(await oneRun(twin, label, time, vsCurrency));
  return results;
}
