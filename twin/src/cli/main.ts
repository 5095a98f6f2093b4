import type { BackfillCommandOptions } from './backfill-command.js';
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../../functions/src/config.js';
import { describeError } from '../../../functions/src/core/errors.js';
import { parseDateRange } from '../../../functions/src/core/replay-event.js';
import { parseSourceSpec, type SourceSpec } from '../source-spec.js';
import { twinConfig } from './context.js';
import { clientProgressPrinter, consoleLogger, toJson } from './output.js';
import { QUERY_TIMEOUT_SECONDS, queryCommand, statusCommand } from './status-command.js';
import { UsageError } from './usage-error.js';

// Each command imports what only it needs when it runs (the pipeline, the HTTP client, the cron
// parser, Google's auth library): `status` and `query` start without loading any of them.

const USAGE = `crypto-pipeline: the crypto market pipeline's local twin

usage: crypto-pipeline <command> [options]

commands:
  run     [--source S] [--slot ISO]   one run (replay:DIR: one run per saved file)
  replay  [--from DATE] [--to DATE]   rebuild the warehouse from the lake: re-deliver the events of
                                      the raw objects already in the lake (no market calls; not
                                      --source replay:DIR, which fetches from saved responses)
  replay --stack S [--from/--to]      the same in the cloud: re-publish the GCS raw objects' events
                                      (crypto-pipeline replay --stack S --help)
  start   [--source S] [--schedule C] run now, then on the cron schedule until Ctrl-C; serves the dashboard
  dashboard [--port N]                the local dashboard on 127.0.0.1 (port 0: a free one)
  looker-studio-url --project P [--dataset D]   URL that creates the Looker Studio report
  status                              recent runs, row counts, freshness, gaps, dead letters
  query   "SQL" [--timeout SECONDS]   read-only SQL on the local warehouse
  redrive                             deliver dead-lettered events again
  ping    [--source S]                check that the market API answers (and the key is accepted)
  backfill --coins A,B|--top N --from DATE --to DATE [--granularity daily|hourly] [--source S]
                                      history from market_chart/range into fact_price_history
  cloud-check --stack S               prove a deployed stack end to end (crypto-pipeline cloud-check --help)

options:
  --source live|simulator|replay:DIR  market data: CoinGecko (live), the built-in simulator
                                      (default: offline), or saved HTTP responses in DIR
                                      (a market source; to reload the lake, use the replay command)
  --slot ISO                          the scheduled time to run for (default: now)
  --from DATE, --to DATE              replay: first and last UTC day (dt= partition), inclusive
  --schedule CRON                     unix-cron, UTC (default: every cadence, "*/15 * * * *")
  --cadence MINUTES                   slot length (default 15, env CADENCE_MINUTES)
  --data-dir DIR                      lake, events and warehouse (default .data, env PIPELINE_DATA_DIR)
  --timeout SECONDS                   stop a query after this long (default ${QUERY_TIMEOUT_SECONDS})
  --port N                            dashboard port (default 0: a free port, printed)
  --coins ID,ID                       backfill: CoinGecko coin ids (bitcoin,ethereum)
  --top N                             backfill: the N largest coins by market cap
  --from DATE, --to DATE              backfill: first and last UTC day (YYYY-MM-DD), both included
  --granularity daily|hourly          backfill: one point per day (default) or per hour
  --print-requests                    backfill: print the chunk requests for the cloud topic, fetch nothing
  --stack NAME, --outputs FILE        backfill: publish the chunk requests to that stack's backfillRequestsTopic
  --json                              machine-readable output (shapes: README.md)
  --verbose                           log every pipeline step to stderr

Exit codes: 0 done, 1 the work failed, 2 bad usage or configuration.
Other settings come from the environment (COINGECKO_PLAN, COINGECKO_API_KEY, COIN_LIMIT, ...),
see README.md.`;

const OPTIONS = {
  source: { type: 'string' },
  slot: { type: 'string' },
  schedule: { type: 'string' },
  cadence: { type: 'string' },
  'data-dir': { type: 'string' },
  timeout: { type: 'string' },
  port: { type: 'string' },
  project: { type: 'string' },
  dataset: { type: 'string' },
  'template-report': { type: 'string' },
  coins: { type: 'string' },
  top: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  granularity: { type: 'string' },
  'print-requests': { type: 'boolean' },
  stack: { type: 'string' },
  outputs: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
type OptionName = keyof typeof OPTIONS;

/** Which options each command takes, and whether it takes SQL: anything else is a usage error. */
const COMMANDS: Record<string, { options: OptionName[]; positionals?: 'sql' }> = {
  run: { options: ['source', 'slot', 'cadence', 'data-dir', 'json', 'verbose'] },
  start: { options: ['source', 'schedule', 'cadence', 'data-dir', 'port', 'json', 'verbose'] },
  dashboard: { options: ['data-dir', 'port'] },
  'looker-studio-url': { options: ['project', 'dataset', 'template-report'] },
  status: { options: ['data-dir', 'json'] },
  query: { options: ['data-dir', 'timeout', 'json'], positionals: 'sql' },
  redrive: { options: ['data-dir', 'json', 'verbose'] },
  replay: { options: ['from', 'to', 'data-dir', 'json', 'verbose'] },
  ping: { options: ['source', 'json', 'verbose'] },
  backfill: {
    options: [
      'coins',
      'top',
      'from',
      'to',
      'granularity',
      'source',
      'data-dir',
      'json',
      'verbose',
      'print-requests',
      'stack',
      'outputs',
    ],
  },
};

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** A terminal lets long waits show a spinner (cloud-check). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Called by `start` with an AbortSignal to stop on Ctrl-C / SIGTERM. */
  onStop?: (stop: () => void) => () => void;
}

const consoleIo: CliIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  stream: process.stdout,
};

/** Parses argv and runs a command; resolves to the process exit code. */
export async function main(
  argv: string[],
  env: Record<string, string | undefined>,
  io: CliIo = consoleIo,
): Promise<number> {
  try {
    return await dispatch(argv, env, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.err(`error: ${error.message}`);
      return 2;
    }
    io.err(`error: ${describeError(error).message}`);
    return 1;
  }
}

function usage(message: string): never {
  throw new UsageError(`${message}\n(crypto-pipeline --help lists the commands and their options)`);
}

async function dispatch(argv: string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  // cloud-check talks to a deployed stack, not the twin: it has options of its own (ops/cloud-check).
  if (argv[0] === 'cloud-check') {
    const { cloudCheckCommand } = await import('../../../ops/cloud-check/cloud-check.js');
    return cloudCheckCommand(argv.slice(1), env, { out: io.out, stream: io.stream });
  }
  // replay --stack (or --outputs) re-publishes a deployed stack's lake: cloud options (ops/replay).
  if (argv[0] === 'replay' && argv.some((a) => /^--(stack|outputs)(=|$)/.test(a))) {
    const { cloudReplayCommand } = await import('../../../ops/replay/cloud-replay.js');
    const controller = new AbortController();
    const release = (io.onStop ?? processStop(io, 'stopping after the batch in flight'))(() =>
      controller.abort(),
    );
    try {
      return await cloudReplayCommand(
        argv.slice(1),
        env,
        { out: io.out, stream: io.stream },
        { signal: controller.signal },
      );
    } finally {
      release();
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    usage((e as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    (command || values.help ? io.out : io.err)(USAGE);
    return command || values.help ? 0 : 2;
  }
  const spec = COMMANDS[command];
  if (!spec) usage(`unknown command ${JSON.stringify(command)}`);
  const given = (Object.keys(values) as OptionName[]).filter((o) => values[o] !== undefined);
  const stray = given.find((o) => !spec.options.includes(o));
  if (stray) usage(`${command} does not take --${stray}`);
  if (!spec.positionals && rest.length > 0)
    usage(`${command} takes no arguments, got ${JSON.stringify(rest.join(' '))}`);

  const json = values.json ?? false;
  const verbose = values.verbose ?? false;
  const logger = consoleLogger(verbose, io.err);
  const dataDir = values['data-dir'];

  switch (command) {
    case 'looker-studio-url': {
      const { lookerStudioUrlCommand } = await import('./looker-studio-url-command.js');
      return lookerStudioUrlCommand({
        project: values.project,
        dataset: values.dataset,
        templateReportId: values['template-report'],
        out: io.out,
      });
    }
    case 'dashboard': {
      const { dashboardCommand } = await import('./dashboard-command.js');
      const config = twinConfig(env, { dataDir }, { kind: 'data-only' });
      const port = parsePort(values.port);
      const controller = new AbortController();
      const release = (io.onStop ?? processStop(io, 'stopping the dashboard'))(() => controller.abort());
      try {
        return await dashboardCommand({ config, port, out: io.out, signal: controller.signal });
      } finally {
        release();
      }
    }
    case 'status':
    case 'query':
    case 'redrive': {
      const config = twinConfig(env, { dataDir }, { kind: 'data-only' });
      const read = { json, out: io.out, note: io.err };
      if (command === 'status') return statusCommand(config.dataDir, read);
      if (command === 'query') {
        const sql = rest.join(' ').trim();
        if (!sql)
          usage('query needs SQL, e.g. crypto-pipeline query "select count(*) from fact_market_snapshot"');
        return queryCommand(config.dataDir, sql, {
          ...read,
          timeoutSeconds: positiveNumber('timeout', values.timeout),
        });
      }
      const { Twin } = await import('../twin.js');
      const twin = await Twin.open({ config, logger, publishSnapshots: true });
      try {
        const n = await twin.bus.redrive();
        await twin.settle();
        const left = (await twin.bus.deadLetters()).length;
        io.out(
          json
            ? toJson({ redriven: n, stillDeadLettered: left })
            : `redelivered ${n} event(s); ${left} still dead-lettered`,
        );
        return left === 0 ? 0 : 1;
      } finally {
        await twin.close();
      }
    }
    case 'replay': {
      let range;
      try {
        range = parseDateRange(values.from, values.to);
      } catch (e) {
        usage((e as Error).message);
      }
      const config = twinConfig(env, { dataDir }, { kind: 'data-only' });
      const controller = new AbortController();
      const release = (
        io.onStop ?? processStop(io, 'stopping after the object in flight (again to stop at once)')
      )(() => controller.abort());
      try {
        const { replayCommand } = await import('./replay-command.js');
        return await replayCommand({
          config,
          range,
          json,
          logger,
          io: { out: io.out, stream: json ? undefined : io.stream },
          signal: controller.signal,
        });
      } finally {
        release();
      }
    }
    case 'ping': {
      const source = sourceOption(values.source);
      const config = twinConfig(env, {}, { kind: 'market-only', source });
      const { openMarket } = await import('../market-source.js');
      const market = await openMarket(source, config.coingecko, {
        onProgress: clientProgressPrinter(logger),
      });
      try {
        const started = Date.now();
        await market.source.ping();
        const ms = Date.now() - started;
        io.out(
          json
            ? toJson({ source: market.source.description, ok: true, durationMs: ms })
            : `${market.source.description}: ok (${ms} ms)`,
        );
        return 0;
      } finally {
        await market.close();
      }
    }
    case 'backfill': {
      const source = sourceOption(values.source);
      const request = backfillRequest(values);
      const config = twinConfig(env, { dataDir }, { kind: 'pipeline', source });
      const controller = new AbortController();
      const release = (
        io.onStop ?? processStop(io, 'stopping after the chunk in flight (again to stop at once)')
      )(() => controller.abort());
      try {
        const { backfillCommand } = await import('./backfill-command.js');
        return await backfillCommand({
          config,
          source,
          ...request,
          json,
          logger,
          verbose,
          printRequests: values['print-requests'] ?? false,
          stack: backfillStack(values, env),
          out: io.out,
          stream: io.stream,
          signal: controller.signal,
        });
      } finally {
        release();
      }
    }
    case 'run':
    case 'start': {
      const source = sourceOption(values.source);
      const cadenceMinutes = positiveNumber('cadence', values.cadence);
      if (cadenceMinutes !== undefined && !Number.isInteger(cadenceMinutes))
        usage(`--cadence must be a whole number of minutes, got ${JSON.stringify(values.cadence)}`);
      const config = twinConfig(env, { dataDir, cadenceMinutes }, { kind: 'pipeline', source });
      if (command === 'run') {
        const slot = values.slot === undefined ? undefined : new Date(values.slot);
        if (slot && Number.isNaN(slot.getTime()))
          usage(
            `--slot must be an ISO 8601 time such as 2026-11-21T05:00:00Z, got ${JSON.stringify(values.slot)}`,
          );
        const { runCommand } = await import('./run-command.js');
        return runCommand({ config, source, slot, json, logger, verbose, out: io.out });
      }
      const schedule = values.schedule ?? env.SCHEDULE ?? `*/${config.cadenceMinutes} * * * *`;
      const { assertScheduleFitsCadence } = await import('../scheduler.js');
      try {
        assertScheduleFitsCadence(schedule, config.cadenceMinutes, new Date());
      } catch (e) {
        usage((e as Error).message);
      }
      // Live CoinGecko: the deploy planner's call budget, every currency counted (the simulator and
      // saved responses have none).
      if (source.kind === 'live') {
        const { planBudget } = await import('../../../infra/planner.js');
        try {
          const budget = planBudget({
            plan: config.coingecko.plan,
            coinLimit: config.coinLimit,
            perPage: config.perPage,
            schedule,
            cadenceMinutes: config.cadenceMinutes,
            currencies: config.vsCurrencies.length,
          });
          if (budget.warning) io.err(`warning: ${budget.warning}`);
        } catch (e) {
          usage((e as Error).message);
        }
      }
      const dashboardPort = parsePort(values.port);
      const controller = new AbortController();
      const release = (io.onStop ?? processStop(io))(() => controller.abort());
      try {
        const { startCommand } = await import('./start-command.js');
        return await startCommand({
          config,
          source,
          schedule,
          json,
          logger,
          verbose,
          out: io.out,
          signal: controller.signal,
          dashboardPort,
        });
      } finally {
        release();
      }
    }
  }
  return usage(`unknown command ${JSON.stringify(command)}`);
}

const DAY_MS = 86_400_000;

/** A `YYYY-MM-DD` option as UTC midnight, or a usage error. */
function utcDay(name: string, text: string | undefined): Date {
  if (text === undefined) usage(`backfill needs --${name} YYYY-MM-DD`);
  const time = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : NaN;
  // Date.parse rolls 2024-02-31 over into March; such a day does not exist.
  if (Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== text)
    usage(`--${name} must be a date such as 2024-01-31 (UTC), got ${JSON.stringify(text)}`);
  return new Date(time);
}

/** `backfill --stack S` / `--outputs FILE`: where to publish the chunk requests (none: the twin). */
function backfillStack(
  values: { stack?: string; outputs?: string; 'print-requests'?: boolean },
  env: Record<string, string | undefined>,
): BackfillCommandOptions['stack'] {
  const stack = values.stack?.trim() || undefined;
  const outputsFile = values.outputs?.trim() || undefined;
  if (stack === undefined && outputsFile === undefined) return undefined;
  if (values['print-requests']) usage('backfill takes --print-requests or --stack, not both');
  return { target: { stack, outputsFile, requestTimeoutMs: 30_000 }, env };
}

/** The backfill's own options: which coins, which days, which granularity (all checked here). */
function backfillRequest(values: {
  coins?: string;
  top?: string;
  from?: string;
  to?: string;
  granularity?: string;
}) {
  if ((values.coins === undefined) === (values.top === undefined))
    usage('backfill needs either --coins bitcoin,ethereum or --top N (not both)');
  let coins: string[] | undefined;
  if (values.coins !== undefined) {
    coins = values.coins.split(',').map((c) => c.trim().toLowerCase());
    if (coins.some((c) => c === ''))
      usage(`--coins must list CoinGecko ids separated by commas, got ${JSON.stringify(values.coins)}`);
  }
  let top: number | undefined;
  if (values.top !== undefined) {
    top = Number(values.top);
    if (!/^\d+$/.test(values.top) || top < 1 || top > 1000)
      usage(`--top must be a whole number from 1 to 1000, got ${JSON.stringify(values.top)}`);
  }
  const granularity = values.granularity ?? 'daily';
  if (granularity !== 'daily' && granularity !== 'hourly')
    usage(`--granularity must be daily or hourly, got ${JSON.stringify(granularity)}`);
  const from = utcDay('from', values.from);
  const last = utcDay('to', values.to);
  if (last < from) usage(`--to ${values.to} is before --from ${values.from}`);
  return {
    coins,
    top,
    from,
    to: new Date(last.getTime() + DAY_MS),
    granularity: granularity as 'daily' | 'hourly',
  };
}

function sourceOption(text: string | undefined): SourceSpec {
  let source: SourceSpec;
  try {
    source = parseSourceSpec(text ?? 'simulator');
  } catch (e) {
    usage((e as Error).message);
  }
  if (source.kind === 'replay' && !statSync(source.dir, { throwIfNoEntry: false })?.isDirectory())
    usage(`--source replay:${source.dir}: no such folder`);
  return source;
}

/**
 * `--port N`: a TCP port, 0 for a free one (the default); anything else is a usage error (exit 2).
 */
export function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (value.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`--port must be a whole number from 0 to 65535 (0 picks a free port), got ${value}`);
  return port;
}

function positiveNumber(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0)
    usage(`--${name} must be a positive number, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * Ctrl-C or SIGTERM once: finish the run in flight, then stop. Twice: stop at once; the load in
 * flight is rolled back (DuckDB never commits half a transaction) and its event redelivered on the
 * next start.
 */
function processStop(io: CliIo, first = 'stopping after the run in flight (again to stop at once)') {
  return (stop: () => void): (() => void) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals === 1) {
        io.err(`${signal}: ${first}`);
        stop();
        return;
      }
      io.err(`${signal}: stopping now; the run in flight is rolled back and redelivered on the next start`);
      process.exit(130);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  };
}
