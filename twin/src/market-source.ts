import type { CoinGeckoConfig } from '../../functions/src/config.js';
import type { Clock, MarketSource } from '../../functions/src/core/ports.js';
import type { HistorySource } from '../../functions/src/history/history-source.js';
import type { BackoffPolicy } from '../../functions/src/extract/backoff.js';
import { createCoinGeckoClient, type ClientProgress } from '../../functions/src/extract/coingecko-client.js';
import {
  createMarketSimulator,
  openReplay,
  simulatorResponder,
  startMarketServer,
  type MarketServer,
  type ReplaySource,
  type SimulatorResponder,
} from './market/index.js';

import type { SourceSpec } from './source-spec.js';

export { parseSourceSpec, type SourceSpec } from './source-spec.js';

export interface OpenMarket {
  source: MarketSource & HistorySource;
  /** Present for the simulator: pins the simulated market to a slot. */
  simulator?: SimulatorResponder;
  /** Present for replay: the saved files and which one is served. */
  replay?: ReplaySource;
  close(): Promise<void>;
}

/**
 * Opens a market source. The simulator and replay run a local HTTP server speaking CoinGecko's API,
 * so the real client (throttle, retries, error handling) is exercised exactly as against the API;
 * only the base URL and the throttle differ (a local server has no rate limit to respect).
 */
export async function openMarket(
  spec: SourceSpec,
  coingecko: CoinGeckoConfig,
  options: { clock?: Clock; onProgress?: (e: ClientProgress) => void; backoff?: BackoffPolicy } = {},
): Promise<OpenMarket> {
  if (spec.kind === 'live') {
    return { source: createCoinGeckoClient({ ...coingecko, ...options }), close: async () => undefined };
  }
  const responder =
    spec.kind === 'simulator'
      ? simulatorResponder(createMarketSimulator({ seed: spec.seed }), { faults: spec.faults })
      : await openReplay(spec.dir);
  const server: MarketServer = await startMarketServer(responder);
  const local: CoinGeckoConfig = {
    ...coingecko,
    plan: 'keyless',
    apiKey: undefined,
    baseUrl: server.url,
    callsPerMinute: 1_000_000,
  };
  return {
    source: createCoinGeckoClient({ ...local, ...options }),
    ...(spec.kind === 'simulator'
      ? { simulator: responder as SimulatorResponder }
      : { replay: responder as ReplaySource }),
    close: () => server.close(),
  };
}
