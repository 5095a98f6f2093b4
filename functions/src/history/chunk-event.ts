import type { HistoryChunkEvent } from '../core/event.js';
import type { RawObjectRef } from '../core/ports.js';
import { SOURCE } from '../core/run-identity.js';
import type { HistoryChunk } from './chunk-plan.js';
import { HISTORY_EVENT_SCHEMA_VERSION } from './history-event.js';

/** What names a chunk, as its event and the manifest of its lake object both carry it. */
export function chunkIdentity(
  chunk: HistoryChunk,
): Pick<HistoryChunkEvent, 'chunkId' | 'source' | 'coinId' | 'vsCurrency' | 'granularity' | 'from' | 'to'> {
  return {
    chunkId: chunk.chunkId,
    source: SOURCE,
    coinId: chunk.coinId,
    vsCurrency: chunk.vsCurrency,
    granularity: chunk.granularity,
    from: chunk.from.toISOString(),
    to: chunk.to.toISOString(),
  };
}

/**
 * The `history_chunk` pointer to a chunk's object in the lake, built in one place so that the
 * backfill (backfill-chunk.ts) and the lake replay (history-replay.ts) publish the very same event.
 */
export function historyChunkEvent(
  chunk: HistoryChunk,
  ref: RawObjectRef,
  pointCount: number,
): HistoryChunkEvent {
  return {
    schemaVersion: HISTORY_EVENT_SCHEMA_VERSION,
    kind: 'history_chunk',
    ...chunkIdentity(chunk),
    bucket: ref.bucket,
    object: ref.key,
    generation: ref.generation,
    pointCount,
  };
}

/** Points in a market_chart body, for the event (informative; the load counts them itself). */
export function pointCountOfBody(body: unknown): number {
  const prices = (body as { prices?: unknown } | null)?.prices;
  return Array.isArray(prices) ? prices.length : 0;
}
