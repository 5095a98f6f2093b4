import type { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { pageBatch } from './load-order-scenarios.js';

/** One coin as the markets endpoint would report it in one slot (only what the views read). */
export interface FixtureCoin {
  id: string;
  name?: string;
  current_price?: number | null;
  market_cap?: number | null;
  price_change_percentage_24h?: number | null;
}

/** Loads one slot through the real transform and load path (buildStarBatch + loadBatch). */
export async function loadSlot(
  warehouse: DuckDbWarehouse,
  slot: Date,
  coins: readonly FixtureCoin[],
): Promise<void> {
  await warehouse.loadBatch(
    pageBatch(
      slot,
      coins.map((c) => ({ symbol: c.id.slice(0, 3), name: c.name ?? c.id, ...c })),
    ),
  );
}

/** UTC midnight `daysAgo` days before today (the views bound themselves relative to today). */
export function daysAgo(daysAgo: number, hour = 0): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - daysAgo, hour));
}

/** Mean of the last `n` values up to and including index i (fewer at the start). */
export function trailingMean(values: readonly number[], i: number, n: number): number {
  const window = values.slice(Math.max(0, i - n + 1), i + 1);
  return window.reduce((a, b) => a + b, 0) / window.length;
}

/** Sample standard deviation (n - 1), or null below two values. */
export function sampleStdDev(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
}

/**
 * The 30-day volatility at index i of a series of daily closes, computed independently of SQL: the
 * log returns of the current and previous 29 days that have a close (the first day has none).
 */
export function volatility30(closes: readonly number[], i: number): number | null {
  const returns: number[] = [];
  for (let k = Math.max(1, i - 29); k <= i; k++) returns.push(Math.log(closes[k]! / closes[k - 1]!));
  return sampleStdDev(returns);
}
