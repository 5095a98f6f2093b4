import { startMarketServer, type MarketServer } from '../../twin/src/market/index.js';

/**
 * Market servers started by a test file, all closed after it: `serve` starts one and registers it.
 * Call `closeServersAfterAll()` once at the top level of the file.
 */
const servers: MarketServer[] = [];

export async function serve(...args: Parameters<typeof startMarketServer>): Promise<MarketServer> {
  const server = await startMarketServer(...args);
  servers.push(server);
  return server;
}

export function closeServersAfterAll(): void {
  afterAll(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
}

export async function getJson(url: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

export const MARKETS_PATH = '/api/v3/coins/markets?vs_currency=usd&order=market_cap_desc&sparkline=false';
