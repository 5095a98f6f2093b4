import type { MarketSource } from '../../../functions/src/core/ports.js';
import { MAX_PER_PAGE } from '../../../functions/src/extract/coingecko-client.js';

/** Pages of /coins/markets that `--top N` costs, for the plan check before any call. */
export const topCoinPages = (top: number): number => Math.ceil(top / MAX_PER_PAGE);

/**
 * The ids of the `top` coins by market cap, through the same /coins/markets client the snapshots
 * use (its throttle, retries and errors).
 * @throws Error when the answer holds no coin ids.
 */
export async function topCoinIds(market: MarketSource, vsCurrency: string, top: number): Promise<string[]> {
  const pages = await market.fetchMarkets({
    vsCurrency,
    coinLimit: top,
    perPage: Math.min(top, MAX_PER_PAGE),
  });
  const ids: string[] = [];
  for (const page of pages) {
    const records = JSON.parse(page.body.toString('utf8')) as unknown[];
    for (const record of records) {
      const id = (record as { id?: unknown } | null)?.id;
      if (typeof id === 'string' && !ids.includes(id)) ids.push(id);
    }
  }
  if (ids.length === 0) throw new Error(`/coins/markets (${market.description}) listed no coins`);
  return ids.slice(0, top);
}
