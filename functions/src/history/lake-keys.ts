import { SOURCE, compactUtc } from '../core/run-identity.js';
import type { HistoryChunk } from './chunk-plan.js';

/** The lake's folder for market_chart/range answers (ARCHITECTURE.md §3, Hive-style keys). */
export const HISTORY_ENDPOINT = 'market_chart_range';

const folder = (c: HistoryChunk): string =>
  `${SOURCE}/${HISTORY_ENDPOINT}/vs_currency=${c.vsCurrency}/coin_id=${c.coinId}/granularity=${c.granularity}`;

/**
 * Where a chunk's raw answer lives: one create-only object per chunk id, so the lake is the
 * backfill's checkpoint (an object there means the chunk was fetched).
 */
export function historyObjectKey(chunk: HistoryChunk): string {
  return `raw/${folder(chunk)}/${chunk.chunkId}.json`;
}

/** A failed fetch of a chunk, one object per attempt: the failing bytes are never lost. */
export function historyFailureKey(chunk: HistoryChunk, attemptAt: Date): string {
  return `failures/${folder(chunk)}/${chunk.chunkId}/${compactUtc(attemptAt)}.json`;
}
