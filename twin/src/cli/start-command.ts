import type { PipelineConfig } from '../../../functions/src/config.js';
import type { Logger } from '../../../functions/src/core/logger.js';
import { systemClock } from '../../../functions/src/core/ports.js';
import type { SourceSpec } from '../market-source.js';
import { gapsInWarehouse, recordSchedule } from '../schedule-gaps.js';
import { nextFireTimes, runOnSchedule } from '../scheduler.js';
import type { Twin } from '../twin.js';
import { serveLiveDashboard } from './dashboard-command.js';
import { withPipeline } from './pipeline-session.js';
import { describeRun, oneRun, runFailed } from './run-report.js';

export interface StartOptions {
  config: PipelineConfig;
  source: SourceSpec;
  /** Checked by the caller (assertScheduleFitsCadence). */
  schedule: string;
  json: boolean;
  logger: Logger;
  /** False: the pipeline's own log is left out (the run sentences say it); default true. */
  verbose?: boolean;
  out: (line: string) => void;
  /** Aborts between runs: the run in flight finishes first. */
  signal: AbortSignal;
  /** Serve the dashboard from this run's warehouse on this port (0: a free one); omit for none. */
  dashboardPort?: number;
}

/**
 * `crypto-pipeline start`: runs the current slot at once (so a newcomer sees data straight away;
 * it is idempotent), then one run per scheduled time until stopped (Ctrl-C or SIGTERM).
 */
export async function startCommand(options: StartOptions): Promise<number> {
  const { config, out, signal, json } = options;
  return withPipeline(options, async ({ twin, market }) => {
    await reportMissedSlots(twin, options);
    recordSchedule(config.dataDir, options.schedule, config.cadenceMinutes, config.vsCurrencies, new Date());
    const tick = async (time: Date) => {
      market.simulator?.setTime(time);
      // One run per configured currency, each reported as it ends.
      for (const vsCurrency of config.vsCurrencies) {
        const result = await oneRun(twin, time.toISOString(), time, vsCurrency);
        const at = new Date().toISOString();
        out(
          json
            ? JSON.stringify({ at, ...result, failed: runFailed(result) })
            : `${at} ${describeRun(result)}`,
        );
      }
    };
    // The dashboard reads through this process's own connection: no lock, every load seen at once.
    const dashboard =
      options.dashboardPort === undefined
        ? undefined
        : await serveLiveDashboard(twin.warehouse, {
            port: options.dashboardPort,
            vsCurrency: config.vsCurrency,
            out: json ? () => undefined : out,
          });
    if (dashboard && json) out(JSON.stringify({ dashboard: dashboard.url }));
    try {
      const [next] = nextFireTimes(options.schedule, new Date(), 1);
      if (!json) {
        out(
          `running ${options.source.kind} on schedule "${options.schedule}" (UTC, ${config.cadenceMinutes}-minute slots), ` +
            `data in ${config.dataDir}; next run ${next!.toISOString()}; Ctrl-C to stop`,
        );
      }
      await tick(new Date());
      await runOnSchedule({ cron: options.schedule, clock: systemClock, signal, tick });
      if (!json) out('stopped');
      return 0;
    } finally {
      await dashboard?.close();
    }
  });
}

/**
 * Says which slots of the schedule the last `start` kept went without a run (the process was
 * stopped or killed). They are not fetched now: the market API answers with today's prices, which
 * would be stored under an old slot's time.
 */
async function reportMissedSlots(twin: Twin, options: StartOptions): Promise<void> {
  const gaps = await gapsInWarehouse(twin.warehouse, options.config.dataDir, new Date());
  if (!gaps || gaps.missingSlots === 0) return;
  options.logger.log(
    'WARNING',
    `${gaps.missingSlots} slot(s) of schedule "${gaps.schedule}" since ${gaps.from} have no run ` +
      `(newest: ${gaps.recent.join(', ')}); live prices cannot be fetched for past slots, so they stay gaps (see status)`,
  );
}
