import { ENDPOINT, SOURCE, compactUtc, utcDate, type RunIdentity } from './run-identity.js';

/**
 * Lake layout (ARCHITECTURE.md §3): Hive-style keys, identical in the GCS bucket and the twin's
 * lake folder, so a run can be replayed and the warehouse rebuilt from the lake alone.
 */
export function rawObjectKey(run: RunIdentity): string {
  return `raw/${SOURCE}/${ENDPOINT}/vs_currency=${run.vsCurrency}/dt=${utcDate(run.slot)}/${run.runId}.json`;
}

/**
 * Failed attempts are kept next to the raw data, one object per attempt (create-only too), so the
 * failing response body is never lost and a later successful attempt still owns the run's key.
 */
export function failureObjectKey(run: RunIdentity, attemptAt: Date): string {
  return `failures/${SOURCE}/${ENDPOINT}/vs_currency=${run.vsCurrency}/dt=${utcDate(run.slot)}/${run.runId}/${compactUtc(attemptAt)}.json`;
}
