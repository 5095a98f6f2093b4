import { parseArgs } from 'node:util';
import { ConfigError } from '../../../functions/src/config.js';
import { describeError } from '../../../functions/src/core/errors.js';
import { openMarket, parseSourceSpec } from '../market-source.js';
import { Twin } from '../twin.js';
import { twinConfig } from './context.js';
import { dashboardCommand, parsePort } from './dashboard-command.js';
import { lookerStudioUrlCommand } from './looker-studio-url-command.js';
import { consoleLogger, toJson } from './output.js';
import { runCommand } from './run-command.js';
import { startCommand } from './start-command.js';
import { queryCommand, statusCommand } from './status-command.js';

const USAGE = `crypto-pipeline: the crypto market pipeline's local twin

usage: crypto-pipeline <command> [options]

commands:
  run     [--source S] [--slot ISO]   one run (replay:DIR: one run per saved file)
  start   [--source S] [--schedule C] run now, then on the cron schedule until Ctrl-C; serves the dashboard
  dashboard [--port N]                the local dashboard on 127.0.0.1 (port 0: a free one)
  looker-studio-url --project P [--dataset D]   URL that creates the Looker Studio report
  status  [--json]                    recent runs, row counts, freshness, dead letters
  query   "SQL" [--json]              read-only SQL on the local warehouse
  redrive                             deliver dead-lettered events again
  ping    [--source S]                check that the market API answers (and the key is accepted)

options:
  --source live|simulator|replay:DIR  market data: CoinGecko (live), the built-in simulator
                                      (default: offline), or saved responses in DIR
  --slot ISO                          the scheduled time to run for (default: now)
  --schedule CRON                     unix-cron, UTC (default: every cadence, "*/15 * * * *")
  --cadence MINUTES                   slot length (default 15, env CADENCE_MINUTES)
  --data-dir DIR                      lake, events and warehouse (default .data, env PIPELINE_DATA_DIR)
  --port N                            dashboard port (default 0: a free port, printed)
  --json                              machine-readable output
  --verbose                           log every pipeline step to stderr

Other settings come from the environment (COINGECKO_PLAN, COINGECKO_API_KEY, COIN_LIMIT, ...),
see README.md.`;

/** Parses argv and runs a command; resolves to the process exit code. */
export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const out = (line: string) => console.log(line);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        source: { type: 'string' },
        slot: { type: 'string' },
        schedule: { type: 'string' },
        cadence: { type: 'string' },
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        project: { type: 'string' },
        dataset: { type: 'string' },
        'template-report': { type: 'string' },
        json: { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    out(USAGE);
    return command || values.help ? 0 : 2;
  }
  const logger = consoleLogger(values.verbose);
  try {
    const cadence = values.cadence === undefined ? undefined : Number(values.cadence);
    if (cadence !== undefined && !Number.isInteger(cadence))
      throw new Error('--cadence must be a whole number of minutes');
    const config = twinConfig(env, { dataDir: values['data-dir'], cadenceMinutes: cadence });
    const source = parseSourceSpec(values.source ?? 'simulator');
    switch (command) {
      case 'run': {
        let slot: Date | undefined;
        if (values.slot !== undefined) {
          slot = new Date(values.slot);
          if (Number.isNaN(slot.getTime()))
            throw new Error(`--slot must be an ISO 8601 time, got ${values.slot}`);
        }
        return await runCommand({ config, source, slot, json: values.json, logger, out });
      }
      case 'start': {
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const schedule = values.schedule ?? env.SCHEDULE ?? `*/${config.cadenceMinutes} * * * *`;
        const dashboardPort = parsePort(values.port);
        return await startCommand({
          config,
          source,
          schedule,
          logger,
          out,
          signal: controller.signal,
          dashboardPort,
        });
      }
      case 'dashboard': {
        const controller = new AbortController();
        process.once('SIGINT', () => controller.abort());
        process.once('SIGTERM', () => controller.abort());
        const port = parsePort(values.port);
        return await dashboardCommand({ config, port, out, signal: controller.signal });
      }
      case 'looker-studio-url':
        return lookerStudioUrlCommand({
          project: values.project,
          dataset: values.dataset,
          templateReportId: values['template-report'],
          out,
        });
      case 'status':
        return await statusCommand(config, { json: values.json, out });
      case 'query': {
        const sql = rest.join(' ').trim();
        if (!sql)
          throw new Error(
            'query needs SQL, e.g. crypto-pipeline query "select count(*) from fact_market_snapshot"',
          );
        return await queryCommand(config, sql, { json: values.json, out });
      }
      case 'redrive': {
        const twin = await Twin.open({ config, logger });
        try {
          const n = await twin.bus.redrive();
          await twin.settle();
          const left = (await twin.bus.deadLetters()).length;
          out(
            values.json
              ? toJson({ redriven: n, stillDeadLettered: left })
              : `redelivered ${n} event(s); ${left} still dead-lettered`,
          );
          return left === 0 ? 0 : 1;
        } finally {
          await twin.close();
        }
      }
      case 'ping': {
        const market = await openMarket(source, config.coingecko);
        try {
          await market.source.ping();
          out(`${market.source.description}: ok`);
          return 0;
        } finally {
          await market.close();
        }
      }
      default:
        console.error(`error: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : describeError(error).message;
    console.error(`error: ${message}`);
    return error instanceof ConfigError ? 2 : 1;
  }
}
