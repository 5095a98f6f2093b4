import * as z from 'zod/mini';
import '../core/zod-messages.js';
import type { HistoryChunkEvent } from '../core/event.js';
import type { RawObjectRef } from '../core/ports.js';
import { compactToIso, inDateRange, type DateRange } from '../core/replay-event.js';
import { SOURCE } from '../core/run-identity.js';
import type { Granularity, HistoryChunk } from './chunk-plan.js';
import { historyChunkEvent, pointCountOfBody } from './chunk-event.js';
import { parseHistoryObject } from './history-object.js';
import { HISTORY_ENDPOINT, historyFailureKey, historyObjectKey } from './lake-keys.js';

/**
 * Rebuilding fact_price_history and ops_backfill_chunk from the lake (ARCHITECTURE.md §8): a
 * backfill chunk's key names the chunk, its object (or failure record) and generation give back
 * the `history_chunk` event the backfill published (chunk-event.ts).
 */

/** Where the market_chart/range answers live (lake-keys.ts `historyObjectKey`). */
export const HISTORY_RAW_PREFIX = `raw/${SOURCE}/${HISTORY_ENDPOINT}/`;
/** Where failed fetches of chunks are kept (lake-keys.ts `historyFailureKey`). */
export const HISTORY_FAILURE_PREFIX = `failures/${SOURCE}/${HISTORY_ENDPOINT}/`;

/** What a chunk's lake key says. */
export interface HistoryObjectKey {
  kind: 'history_chunk';
  /** A failed fetch's record rather than an answer. */
  failed: boolean;
  /** The failed attempt's compact time; '' for an answer. */
  attempt: string;
  key: string;
  chunk: HistoryChunk;
}

const COMPACT = '\\d{8}T\\d{6}Z';
// The chunk id repeats the folder's coin, currency and granularity (groups 3, 2, 4; group 1 is the
// area): a key whose parts
// disagree is not one the backfill wrote.
const FOLDER = `vs_currency=([a-z0-9]+)/coin_id=([a-z0-9._-]+)/granularity=(daily|hourly)/(\\3_\\2_\\4_(${COMPACT})_(${COMPACT}))`;
const HISTORY_KEY = new RegExp(
  `^(raw|failures)/${SOURCE}/${HISTORY_ENDPOINT}/${FOLDER}(?:/(${COMPACT}))?\\.json$`,
);

/** Reads a chunk's lake key; undefined for anything that is not a key the backfill writes. */
export function parseHistoryObjectKey(key: string): HistoryObjectKey | undefined {
  const m = HISTORY_KEY.exec(key);
  if (!m) return undefined;
  const [, area, vsCurrency, coinId, granularity, chunkId, from, to, attempt] = m as unknown as [
    string,
    string,
    string,
    string,
    Granularity,
    string,
    string,
    string,
    string | undefined,
  ];
  const chunk: HistoryChunk = {
    chunkId,
    coinId,
    vsCurrency,
    granularity,
    from: new Date(compactToIso(from)),
    to: new Date(compactToIso(to)),
  };
  const failed = area === 'failures';
  // Written back through lake-keys.ts: only the exact layout the backfill writes is replayed.
  const expected =
    failed && attempt !== undefined
      ? historyFailureKey(chunk, new Date(compactToIso(attempt)))
      : historyObjectKey(chunk);
  if (expected !== key) return undefined;
  return { kind: 'history_chunk', failed, attempt: attempt ?? '', key, chunk };
}

/**
 * Whether the chunk's half-open range [from, to) touches a day of the range: a chunk is replayed
 * whole, so `--from/--to` keep every chunk with a point on one of their days.
 */
export function historyKeyInRange(key: HistoryObjectKey, range: DateRange): boolean {
  const firstDay = key.chunk.from.toISOString().slice(0, 10);
  const lastDay = new Date(key.chunk.to.getTime() - 1).toISOString().slice(0, 10);
  return inDateRange(firstDay, { to: range.to }) && inDateRange(lastDay, { from: range.from });
}

const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Chunk by chunk; within a chunk its failed attempts (in attempt order) before its answer, as they
 * happened: a failure never overwrites a loaded chunk (the warehouse keeps `loaded`).
 */
export function compareHistoryKeys(a: HistoryObjectKey, b: HistoryObjectKey): number {
  return (
    order(a.chunk.chunkId, b.chunk.chunkId) ||
    order(a.failed ? '0' : '1', b.failed ? '0' : '1') ||
    order(a.attempt, b.attempt)
  );
}

const FailureRecordSchema = z.object({
  chunkId: z.string(),
  error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }),
});

/**
 * The `history_chunk` event the backfill published for this object (backfill-chunk.ts), rebuilt
 * from its parsed JSON and current generation: the answer's manifest, or the failure record (the
 * event then carries the error). Throws when the object belongs to another chunk than its key says.
 */
export function historyReplayEvent(
  key: HistoryObjectKey,
  json: unknown,
  ref: RawObjectRef,
): HistoryChunkEvent {
  if (key.failed) {
    const parsed = FailureRecordSchema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new Error(`not a failure record: ${first?.path.join('.') ?? ''} ${first?.message ?? ''}`.trim());
    }
    if (parsed.data.chunkId !== key.chunk.chunkId)
      throw new Error(
        `${key.key} holds the failure of chunk ${parsed.data.chunkId}, not ${key.chunk.chunkId}`,
      );
    const { code, message, retryable } = parsed.data.error;
    return { ...historyChunkEvent(key.chunk, ref, 0), error: { code, message, retryable } };
  }
  const { manifest, body } = parseHistoryObject(json);
  if (manifest.chunkId !== key.chunk.chunkId)
    throw new Error(`${key.key} holds the manifest of chunk ${manifest.chunkId}, not ${key.chunk.chunkId}`);
  return historyChunkEvent(key.chunk, ref, pointCountOfBody(body));
}
