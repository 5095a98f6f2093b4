/**
 * A /coins/markets record that passes every quality check (price inside its 24h range and below
 * its all-time high, circulating supply below the total), unless `over` says otherwise.
 */
export function saneCoin(
  id: string,
  lastUpdated: string,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    symbol: id.slice(0, 3),
    name: id,
    image: `https://img.example/${id}.png`,
    current_price: 100,
    market_cap: 1_000_000,
    high_24h: 110,
    low_24h: 90,
    circulating_supply: 1000,
    total_supply: 2000,
    ath: 200,
    last_updated: lastUpdated,
    ...over,
  };
}
