import type { DuckDbWarehouse } from '../adapters/duckdb-warehouse.js';

/** The backfilled history at a glance (`status --json` under `backfill`). */
export interface BackfillStatus {
  chunksLoaded: number;
  chunksFailed: number;
  /** fact_price_history rows the loaded chunks added. */
  points: number;
  /** Coins with at least one loaded chunk. */
  coins: number;
  /** First UTC day a loaded chunk covers, `YYYY-MM-DD`; null before any backfill. */
  from: string | null;
  /** Last UTC day a loaded chunk covers (inclusive), `YYYY-MM-DD`; null before any backfill. */
  to: string | null;
}

const NONE: BackfillStatus = { chunksLoaded: 0, chunksFailed: 0, points: 0, coins: 0, from: null, to: null };

/**
 * One pass over ops_backfill_chunk (a row per market_chart call, small), never over the fact:
 * `status` stays cheap however much history is loaded. A warehouse from before the backfill
 * (a copy without the table) reads as no backfill.
 */
export async function readBackfillStatus(warehouse: Pick<DuckDbWarehouse, 'query'>): Promise<BackfillStatus> {
  const [exists] = await warehouse.query(
    `select count(*) as n from duckdb_tables() where table_name = 'ops_backfill_chunk'`,
  );
  if (Number(exists?.n ?? 0) === 0) return NONE;
  const [row] = await warehouse.query(`
    select count(*) filter (where status = 'loaded') as loaded,
           count(*) filter (where status = 'failed') as failed,
           coalesce(sum(points_loaded) filter (where status = 'loaded'), 0) as points,
           count(distinct coin_id) filter (where status = 'loaded') as coins,
           min(range_from) filter (where status = 'loaded') as span_from,
           max(range_to) filter (where status = 'loaded') as span_to
    from ops_backfill_chunk`);
  if (!row) return NONE;
  const day = (d: unknown) => (d instanceof Date ? d.toISOString().slice(0, 10) : null);
  // range_to is exclusive: the last day covered is the one before it.
  const lastDay = row.span_to instanceof Date ? day(new Date(row.span_to.getTime() - 1)) : null;
  return {
    chunksLoaded: Number(row.loaded),
    chunksFailed: Number(row.failed),
    points: Number(row.points),
    coins: Number(row.coins),
    from: day(row.span_from),
    to: lastDay,
  };
}

/** The `backfill:` line of `status`. */
export function describeBackfill(b: BackfillStatus): string {
  if (b.chunksLoaded === 0 && b.chunksFailed === 0) return 'backfill: none (crypto-pipeline backfill)';
  const span = b.from && b.to ? `, ${b.coins} coin(s) from ${b.from} to ${b.to}` : '';
  return (
    `backfill: ${b.chunksLoaded} chunk(s) loaded, ${b.chunksFailed} failed, ` +
    `${b.points.toLocaleString('en-US')} point(s)${span}`
  );
}
