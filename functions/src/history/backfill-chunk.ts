import { describeError, PipelineError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Clock, EventPublisher, RawObjectRef, RawStore } from '../core/ports.js';
import { createRedactor } from '../core/redact.js';
import { CoinGeckoError } from '../extract/errors.js';
import type { HistoryChunk } from './chunk-plan.js';
import type { HistoryWarehouse } from './history-batch.js';
import { chunkIdentity, historyChunkEvent, pointCountOfBody } from './chunk-event.js';
import {
  decodeHistoryObject,
  encodeHistoryObject,
  HISTORY_OBJECT_SCHEMA_VERSION,
  type HistoryManifest,
} from './history-object.js';
import type { HistorySource } from './history-source.js';
import { historyFailureKey, historyObjectKey } from './lake-keys.js';

/**
 * One backfill chunk, shared by the twin's `backfill` command and the cloud `extract` function's
 * backfill requests: fetch one market_chart/range answer, keep it in the lake
 * under the chunk's create-only key, publish the `history_chunk` pointer event; the load function
 * (through the bus) loads it. The lake is the checkpoint: a chunk whose object is there is not
 * fetched again, and unless the warehouse records it as loaded from that very object its event is
 * published again (a crash between the lake write and the publish loses nothing; a duplicate
 * delivery adds nothing). So an interrupted backfill started again finishes with every point
 * loaded exactly once, and a second backfill of the same range makes no call at all.
 */
export type ChunkOutcome =
  /** Fetched now, kept in the lake, event published. */
  | 'fetched'
  /** Already in the lake but not loaded (an earlier run was interrupted): event published again. */
  | 'redelivered'
  /** Already in the lake and loaded from it: nothing to do. */
  | 'already_loaded'
  /** The fetch failed; the error (and any body) is kept in the lake and recorded. */
  | 'failed';

export interface ChunkReport {
  chunk: HistoryChunk;
  outcome: ChunkOutcome;
  object?: string;
  error?: { code: string; message: string; retryable: boolean };
}

/** What one chunk needs: the market, the lake, the event topic, and optionally the warehouse. */
export interface ChunkDeps {
  history: HistorySource;
  lake: RawStore;
  publisher: EventPublisher;
  /**
   * Where a chunk's load is recorded. Without it (the cloud function, whose identity cannot read
   * the warehouse) a chunk already in the lake has its event published again: the load skips it.
   */
  warehouse?: Pick<HistoryWarehouse, 'getChunk'>;
  clock: Clock;
  logger: Logger;
  /** Values never stored (the API key): removed from kept bodies and failure records. */
  secrets?: readonly (string | undefined)[];
}

/** Points in a chunk object, for the event. */
async function pointCountOf(lake: RawStore, ref: RawObjectRef): Promise<number> {
  try {
    return pointCountOfBody(decodeHistoryObject(await lake.read(ref)).body);
  } catch {
    // The load records an unreadable object as a failed chunk with the specific reason.
    return 0;
  }
}

/** Points in a fetched market_chart body (history-source.ts has checked its shape). */
function pointCountOfBytes(body: Buffer): number {
  try {
    return pointCountOfBody(JSON.parse(body.toString('utf8')));
  } catch {
    return 0;
  }
}

/**
 * One chunk: skipped when loaded, its event published again when in the lake but not loaded,
 * otherwise fetched, kept in the lake (create-only) and its event published. A failed fetch is kept
 * in the lake and recorded (see recordFailure); errors of the lake or the topic are thrown.
 */
export async function backfillChunk(chunk: HistoryChunk, deps: ChunkDeps): Promise<ChunkReport> {
  const key = historyObjectKey(chunk);
  const existing = await deps.lake.head(key);
  if (existing) {
    const record = await deps.warehouse?.getChunk(chunk.chunkId);
    if (record?.status === 'loaded' && record.raw_generation === existing.generation) {
      return { chunk, outcome: 'already_loaded', object: key };
    }
    await deps.publisher.publish(historyChunkEvent(chunk, existing, await pointCountOf(deps.lake, existing)));
    return { chunk, outcome: 'redelivered', object: key };
  }

  let response;
  try {
    response = await deps.history.fetchMarketChartRange(chunk);
  } catch (error) {
    return recordFailure(chunk, error, deps);
  }
  const manifest: HistoryManifest = {
    schemaVersion: HISTORY_OBJECT_SCHEMA_VERSION,
    ...chunkIdentity(chunk),
    market: deps.history.description,
    url: response.url,
    status: response.status,
    fetchedAt: response.fetchedAt,
    durationMs: response.durationMs,
    attempts: response.attempts,
    bytes: response.body.length,
  };
  // Create-only: when another process wrote the chunk meanwhile, its object is the one loaded.
  const { created, ref } = await deps.lake.createOnly(
    key,
    encodeHistoryObject(manifest, createRedactor(deps.secrets ?? []).bytes(response.body)),
    'application/json',
  );
  // The body just written is in hand; only another process's object has to be read back.
  const points = created ? pointCountOfBytes(response.body) : await pointCountOf(deps.lake, ref);
  await deps.publisher.publish(historyChunkEvent(chunk, ref, points));
  return { chunk, outcome: 'fetched', object: key };
}

/**
 * A failed fetch: the error and the failing body (e.g. CoinGecko's 10012 envelope) are kept in the
 * lake, one object per attempt, and a `history_chunk` event with the error records the chunk as
 * failed in the warehouse. The chunk key stays free, so the next backfill tries it again.
 */
async function recordFailure(chunk: HistoryChunk, error: unknown, deps: ChunkDeps): Promise<ChunkReport> {
  const described = describeError(error);
  if (!(error instanceof PipelineError)) throw error;
  const attemptAt = deps.clock.now();
  const body = error instanceof CoinGeckoError ? (error.body ?? null) : null;
  const record = {
    chunkId: chunk.chunkId,
    from: chunk.from.toISOString(),
    to: chunk.to.toISOString(),
    attemptAt: attemptAt.toISOString(),
    market: deps.history.description,
    error: { ...described, details: error.details },
    body,
  };
  const { ref } = await deps.lake.createOnly(
    historyFailureKey(chunk, attemptAt),
    createRedactor(deps.secrets ?? []).bytes(Buffer.from(JSON.stringify(record, null, 2))),
    'application/json',
  );
  await deps.publisher.publish({ ...historyChunkEvent(chunk, ref, 0), error: described });
  deps.logger.log('WARNING', `backfill chunk ${chunk.chunkId} failed: ${described.message}`, {
    chunkId: chunk.chunkId,
    code: described.code,
  });
  return {
    chunk,
    outcome: 'failed',
    object: ref.key,
    error: described,
  };
}
