import {
  compareHistoryKeys,
  HISTORY_FAILURE_PREFIX,
  HISTORY_RAW_PREFIX,
  historyKeyInRange,
  parseHistoryObjectKey,
  type HistoryObjectKey,
} from '../history/history-replay.js';
import {
  compareRawKeys,
  FAILURE_PREFIX,
  inDateRange,
  parseRawObjectKey,
  RAW_PREFIX,
  type DateRange,
  type RawObjectKey,
} from './replay-event.js';

/**
 * What a lake replay lists (ARCHITECTURE.md §8), for the twin's `replay` and the cloud's
 * `replay --stack` alike: the snapshot runs' raw objects and failure records, then the backfill
 * chunks' answers and failure records.
 */
export const REPLAY_PREFIXES = [
  RAW_PREFIX,
  FAILURE_PREFIX,
  HISTORY_RAW_PREFIX,
  HISTORY_FAILURE_PREFIX,
] as const;

/** A lake object replay re-delivers: a snapshot run's, or a backfill chunk's. */
export type ReplayKey = RawObjectKey | HistoryObjectKey;

/** The run id or chunk id a key's event is logged under. */
export function replaySubject(key: ReplayKey): string {
  return key.kind === 'history_chunk' ? key.chunk.chunkId : key.runId;
}

/** How a report names a key's subject: `runId` for a snapshot run, `chunkId` for a backfill chunk. */
export type SubjectField = { runId: string } | { chunkId: string };

/** The subject as a report field (README: the `failed` entries of `replay --json`). */
export function subjectField(key: ReplayKey): SubjectField {
  return key.kind === 'history_chunk' ? { chunkId: key.chunk.chunkId } : { runId: key.runId };
}

/**
 * Keeps the objects in range, in replay order: snapshot runs in slot order (compareRawKeys), then
 * the backfill chunks (compareHistoryKeys; the two fill different tables, so their mutual order
 * does not matter). `ignored` lists keys under the prefixes that are neither.
 */
export function selectReplayKeys(
  keys: readonly string[],
  range: DateRange,
): { selected: ReplayKey[]; ignored: string[] } {
  const runs: RawObjectKey[] = [];
  const chunks: HistoryObjectKey[] = [];
  const ignored: string[] = [];
  for (const key of keys) {
    const run = parseRawObjectKey(key);
    const chunk = run ? undefined : parseHistoryObjectKey(key);
    if (run) {
      if (inDateRange(run.date, range)) runs.push(run);
    } else if (chunk) {
      if (historyKeyInRange(chunk, range)) chunks.push(chunk);
    } else ignored.push(key);
  }
  return { selected: [...runs.sort(compareRawKeys), ...chunks.sort(compareHistoryKeys)], ignored };
}
