import type { HistoryChunk } from '../../../functions/src/history/chunk-plan.js';
import {
  backfillChunk,
  type ChunkDeps,
  type ChunkReport,
} from '../../../functions/src/history/backfill-chunk.js';
import type { HistoryWarehouse } from '../../../functions/src/history/history-batch.js';

export type { ChunkOutcome, ChunkReport } from '../../../functions/src/history/backfill-chunk.js';

/**
 * Runs a planned backfill chunk by chunk (functions/src/history/backfill-chunk.ts does one), in
 * order, until done or the signal aborts: the twin's `backfill` command.
 */
export interface BackfillDeps extends ChunkDeps {
  warehouse: HistoryWarehouse;
  /** Aborts between chunks: the chunk in flight finishes first. */
  signal?: AbortSignal;
  /** Called after each chunk (progress bar, plain lines). */
  onChunk?: (report: ChunkReport, done: number, total: number) => void;
}

export interface BackfillRunResult {
  reports: ChunkReport[];
  /** True when stopped by the signal before every chunk was handled. */
  interrupted: boolean;
}

/** Handles every chunk in order, or until the signal aborts. */
export async function runBackfill(
  chunks: readonly HistoryChunk[],
  deps: BackfillDeps,
): Promise<BackfillRunResult> {
  const reports: ChunkReport[] = [];
  for (const chunk of chunks) {
    if (deps.signal?.aborted) return { reports, interrupted: true };
    const report = await backfillChunk(chunk, deps);
    reports.push(report);
    deps.onChunk?.(report, reports.length, chunks.length);
  }
  return { reports, interrupted: false };
}
