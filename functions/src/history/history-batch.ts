import type { RawObjectRef } from '../core/ports.js';
import { calendarRow, dateKey } from '../transform/calendar.js';
import { assetKey } from '../transform/star-rows.js';
import type { BackfillChunkRow, DateRow, PriceHistoryRow } from '../schema/tables.js';
import type { HistoryChunk } from './chunk-plan.js';
import type { ParsedChart } from './market-chart.js';

/**
 * Everything one backfill chunk writes to the warehouse, computed in TypeScript (keys identical in
 * DuckDB and BigQuery). The warehouse applies it in one transaction, insert-only on the grain.
 */
export interface HistoryBatch {
  chunk: HistoryChunk;
  raw: RawObjectRef;
  rows: PriceHistoryRow[];
  /** Calendar rows the history references (dim_date is shared with the snapshot fact). */
  dates: DateRow[];
  counts: { pointsIn: number; rejected: number };
  loadStartedAt: Date;
}

export interface HistoryLoadOutcome {
  /** Rows this call added; 0 when a redelivery or an overlapping chunk had loaded them all. */
  pointsInserted: number;
}

/** The warehouse's backfill side: DuckDB in the twin, BigQuery in the cloud. */
export interface HistoryWarehouse {
  /** Inserts the chunk's new points and its `ops_backfill_chunk` record as `loaded`. */
  loadHistoryChunk(batch: HistoryBatch): Promise<HistoryLoadOutcome>;
  /** Records a failed chunk, unless it was loaded already. */
  recordFailedChunk(row: BackfillChunkRow): Promise<void>;
  getChunk(chunkId: string): Promise<BackfillChunkRow | undefined>;
}

/** The chunk's rows on the fact's grain, and the calendar rows they reference. */
export function buildHistoryBatch(
  chunk: HistoryChunk,
  parsed: ParsedChart,
  raw: RawObjectRef,
  loadStartedAt: Date,
): HistoryBatch {
  const key = assetKey(chunk.coinId);
  const dates = new Map<number, DateRow>();
  const rows = parsed.points.map((p): PriceHistoryRow => {
    const dk = dateKey(p.ts);
    if (!dates.has(dk)) dates.set(dk, calendarRow(p.ts));
    return {
      history_date: p.ts.toISOString().slice(0, 10),
      date_key: dk,
      asset_key: key,
      coin_id: chunk.coinId,
      vs_currency: chunk.vsCurrency,
      granularity: chunk.granularity,
      ts: p.ts,
      source_ts: p.sourceTs,
      price: p.price,
      market_cap: p.marketCap,
      total_volume: p.totalVolume,
      chunk_id: chunk.chunkId,
      loaded_at: loadStartedAt,
    };
  });
  return {
    chunk,
    raw,
    rows,
    dates: [...dates.values()],
    counts: { pointsIn: parsed.pointsIn, rejected: parsed.rejected.length },
    loadStartedAt,
  };
}
