import type { PipelineConfig } from '../../../functions/src/config.js';
import type { Logger } from '../../../functions/src/core/logger.js';
import { systemClock } from '../../../functions/src/core/ports.js';
import { openMarket, type SourceSpec } from '../market-source.js';
import { assertScheduleFitsCadence, nextFireTimes, runOnSchedule } from '../scheduler.js';
import { Twin } from '../twin.js';
import type { DashboardServer } from '../dashboard/server.js';
import { serveLiveDashboard } from './dashboard-command.js';
import { clientProgressPrinter } from './output.js';
import { describeError } from '../../../functions/src/core/errors.js';

export interface StartOptions {
  config: PipelineConfig;
  source: SourceSpec;
  schedule: string;
  logger: Logger;
  out: (line: string) => void;
  signal: AbortSignal;
  /** Serve the dashboard from this run's warehouse on this port (0: a free one); omit for none. */
  dashboardPort?: number;
}

/**
 * `crypto-pipeline start`: runs the current slot at once (so a newcomer sees data straight away;
 * it is idempotent), then one run per scheduled time until stopped (Ctrl-C).
 */
export async function startCommand(options: StartOptions): Promise<number> {
  const { config, out, signal } = options;
  assertScheduleFitsCadence(options.schedule, config.cadenceMinutes, new Date());
  const market = await openMarket(options.source, config.coingecko, {
    onProgress: clientProgressPrinter(options.logger),
  });
  const twin = await Twin.open({ config, market: market.source, logger: options.logger });
  let dashboard: DashboardServer | undefined;
  const tick = async (time: Date) => {
    market.simulator?.setTime(time);
    try {
      const e = await twin.extract(time);
      await twin.settle();
      const l = twin.loads.findLast((x) => x.runId === e.runId);
      out(
        `${new Date().toISOString()} ${e.runId}: ${e.status} ${e.records} records; ` +
          (l
            ? `${l.status} ${l.factRowsInserted} rows, ${l.rejected} rejected`
            : 'load pending (see status)'),
      );
    } catch (error) {
      await twin.settle();
      out(
        `${new Date().toISOString()} run for ${time.toISOString()} FAILED: ${describeError(error).message}`,
      );
    }
  };
  try {
    if (options.dashboardPort !== undefined)
      dashboard = await serveLiveDashboard(twin.warehouse, {
        port: options.dashboardPort,
        vsCurrency: config.vsCurrency,
        out,
      });
    const [next] = nextFireTimes(options.schedule, new Date(), 1);
    out(
      `running ${options.source.kind} on schedule "${options.schedule}" (UTC, ${config.cadenceMinutes}-minute slots), ` +
        `data in ${config.dataDir}; next run ${next!.toISOString()}; Ctrl-C to stop`,
    );
    await tick(new Date());
    await runOnSchedule({ cron: options.schedule, clock: systemClock, signal, tick });
    out('stopped');
    return 0;
  } finally {
    await dashboard?.close();
    await twin.close();
    await market.close();
  }
}
