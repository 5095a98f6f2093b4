import type { PipelineConfig } from '../../../functions/src/config.js';
import type { Logger } from '../../../functions/src/core/logger.js';
import { openMarket, type OpenMarket, type SourceSpec } from '../market-source.js';
import { Twin } from '../twin.js';
import { clientProgressPrinter } from './output.js';

export interface PipelineSession {
  twin: Twin;
  market: OpenMarket;
}

/**
 * Opens the market source and the twin, runs `work`, and closes both whatever happens. The market
 * simulator is an HTTP server: left open after an early error (a data folder that is a file, a
 * warehouse held by another process) it would keep the process alive forever.
 */
export async function withPipeline<T>(
  options: { config: PipelineConfig; source: SourceSpec; logger: Logger; verbose?: boolean },
  work: (session: PipelineSession) => Promise<T>,
): Promise<T> {
  const { config, logger } = options;
  // Retries and rate-limit waits always show: a run waiting on the network says so. The pipeline's
  // own log (each failure, each recorded run) is what the run's sentence already says, so it shows
  // only with --verbose, not three times over.
  const market = await openMarket(options.source, config.coingecko, {
    onProgress: clientProgressPrinter(logger),
  });
  const pipelineLog: Logger = options.verbose !== false ? logger : { log: () => undefined };
  try {
    const twin = await Twin.open({
      config,
      market: market.source,
      logger: pipelineLog,
      publishSnapshots: true,
    });
    try {
      return await work({ twin, market });
    } finally {
      await twin.close();
    }
  } finally {
    await market.close();
  }
}
