import { describeError, PipelineError } from '../core/errors.js';
import type { HistoryChunkEvent } from '../core/event.js';
import type { Logger } from '../core/logger.js';
import type { Clock, RawObjectRef, RawReader } from '../core/ports.js';
import type { HistoryChunk } from '../history/chunk-plan.js';
import { buildHistoryBatch, type HistoryWarehouse } from '../history/history-batch.js';
import { decodeHistoryObject } from '../history/history-object.js';
import { MarketChartShapeError, parseMarketChart } from '../history/market-chart.js';
import type { BackfillChunkRow } from '../schema/tables.js';
import { LoadError } from './errors.js';

export interface HistoryLoadDeps {
  lake: RawReader;
  warehouse: HistoryWarehouse;
  clock: Clock;
  logger: Logger;
}

export interface HistoryLoadSummary {
  kind: 'history_chunk';
  /** `already_loaded`: a previous delivery loaded this chunk from the same object; nothing written. */
  status: 'loaded' | 'already_loaded' | 'failure_recorded' | 'rejected';
  chunkId: string;
  pointsIn: number;
  pointsInserted: number;
  rejected: number;
  durationMs: number;
  error?: { code: string; message: string };
}

const refOf = (event: HistoryChunkEvent): RawObjectRef => ({
  bucket: event.bucket,
  key: event.object,
  generation: event.generation,
});

export const chunkOf = (event: HistoryChunkEvent): HistoryChunk => ({
  chunkId: event.chunkId,
  coinId: event.coinId,
  vsCurrency: event.vsCurrency,
  granularity: event.granularity,
  from: new Date(event.from),
  to: new Date(event.to),
});

function failedChunkRow(
  event: HistoryChunkEvent,
  error: { code: string; message: string },
  now: Date,
): BackfillChunkRow {
  return {
    chunk_id: event.chunkId,
    coin_id: event.coinId,
    vs_currency: event.vsCurrency,
    granularity: event.granularity,
    range_from: new Date(event.from),
    range_to: new Date(event.to),
    status: 'failed',
    raw_object: event.object,
    raw_generation: event.generation,
    points_in: null,
    points_loaded: null,
    points_rejected: null,
    error_code: error.code,
    error_message: error.message.slice(0, 2000),
    updated_at: now,
  };
}

/**
 * Loads one backfill chunk (the `history_chunk` event) into fact_price_history. Idempotent like
 * runLoad: a chunk already loaded from the same object is skipped, and the warehouse inserts only
 * points whose grain is new, so a redelivered or overlapping chunk never doubles a point. A body
 * that is not a market_chart answer is recorded as a failed chunk and acknowledged (terminal).
 */
export async function runHistoryLoad(
  event: HistoryChunkEvent,
  deps: HistoryLoadDeps,
): Promise<HistoryLoadSummary> {
  const started = deps.clock.now();
  const base = {
    kind: 'history_chunk' as const,
    chunkId: event.chunkId,
    pointsIn: 0,
    pointsInserted: 0,
    rejected: 0,
  };
  const elapsed = () => deps.clock.now().getTime() - started.getTime();

  if (event.error) {
    await deps.warehouse.recordFailedChunk(failedChunkRow(event, event.error, deps.clock.now()));
    deps.logger.log('WARNING', `recorded failed backfill chunk ${event.chunkId}: ${event.error.message}`, {
      chunkId: event.chunkId,
    });
    return { ...base, status: 'failure_recorded', durationMs: elapsed(), error: event.error };
  }

  const previous = await deps.warehouse.getChunk(event.chunkId);
  if (previous?.status === 'loaded' && previous.raw_generation === event.generation) {
    return {
      ...base,
      status: 'already_loaded',
      pointsIn: previous.points_in ?? 0,
      rejected: previous.points_rejected ?? 0,
      durationMs: elapsed(),
    };
  }

  try {
    const bytes = await deps.lake.read(refOf(event));
    const chunk = chunkOf(event);
    let parsed;
    try {
      const decoded = decodeHistoryObject(bytes);
      if (decoded.manifest.chunkId !== event.chunkId) {
        throw new Error(`event for ${event.chunkId} points at the object of ${decoded.manifest.chunkId}`);
      }
      parsed = parseMarketChart(decoded.body, chunk);
    } catch (e) {
      throw new LoadError(`${event.object}: ${(e as Error).message}`, {
        code: e instanceof MarketChartShapeError ? 'market_chart_malformed' : 'history_object_malformed',
        retryable: false,
      });
    }
    const batch = buildHistoryBatch(chunk, parsed, refOf(event), started);
    const outcome = await deps.warehouse.loadHistoryChunk(batch);
    const summary: HistoryLoadSummary = {
      ...base,
      status: outcome.pointsInserted === 0 && batch.rows.length > 0 ? 'already_loaded' : 'loaded',
      pointsIn: parsed.pointsIn,
      pointsInserted: outcome.pointsInserted,
      rejected: parsed.rejected.length,
      durationMs: elapsed(),
    };
    deps.logger.log('INFO', `loaded backfill chunk ${event.chunkId}: ${summary.pointsInserted} points`, {
      ...summary,
    });
    return summary;
  } catch (error) {
    if (error instanceof PipelineError && !error.retryable) {
      const described = describeError(error);
      await deps.warehouse.recordFailedChunk(failedChunkRow(event, described, deps.clock.now()));
      deps.logger.log('ERROR', `backfill chunk ${event.chunkId} failed for good: ${described.message}`, {
        chunkId: event.chunkId,
        code: described.code,
      });
      return { ...base, status: 'rejected', durationMs: elapsed(), error: described };
    }
    throw error;
  }
}
