import type { PipelineConfig } from '../../../functions/src/config.js';
import type { Logger } from '../../../functions/src/core/logger.js';
import { systemClock } from '../../../functions/src/core/ports.js';
import {
  BackfillPlanError,
  planBackfill,
  type BackfillPlan,
  type BackfillRequest,
  type Granularity,
} from '../../../functions/src/history/chunk-plan.js';
import { backfillRequestOf } from '../../../functions/src/history/backfill-request.js';
import type { CloudBackfillDeps } from '../../../ops/backfill/cloud-backfill.js';
import type { StackTarget } from '../../../ops/replay/stack-session.js';
import { createProgress } from '../backfill/progress.js';
import { runBackfill, type ChunkReport } from '../backfill/run-backfill.js';
import { topCoinIds, topCoinPages } from '../backfill/top-coins.js';
import { openMarket, type SourceSpec } from '../market-source.js';
import { Twin } from '../twin.js';
import { clientProgressPrinter, toJson } from './output.js';
import { UsageError } from './usage-error.js';

export interface BackfillCommandOptions {
  config: PipelineConfig;
  source: SourceSpec;
  /** Exactly one of `coins` and `top`. */
  coins?: string[];
  top?: number;
  /** First day, UTC midnight. */
  from: Date;
  /** End, exclusive: the day after `--to`. */
  to: Date;
  granularity: Granularity;
  json: boolean;
  /**
   * Print one backfill request per chunk (JSON, one per line) for the deployed stack's
   * `backfill-requests` topic, and fetch nothing: the cloud fan-out's input.
   */
  printRequests?: boolean;
  /**
   * Publish one backfill request per chunk to this deployed stack's `backfillRequestsTopic`
   * (ops/backfill/cloud-backfill.ts) and fetch nothing here: the cloud's extract fetches them.
   */
  stack?: {
    target: StackTarget;
    env: Readonly<Record<string, string | undefined>>;
    deps?: CloudBackfillDeps;
  };
  logger: Logger;
  verbose: boolean;
  out: (line: string) => void;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborts between chunks (Ctrl-C): the chunk in flight finishes, its load too. */
  signal: AbortSignal;
  now?: Date;
}

/** Exit code of an interrupted backfill (128 + SIGINT), as shells report Ctrl-C. */
export const INTERRUPTED_EXIT_CODE = 130;

const HOUR_MS = 3_600_000;

/**
 * The plan, or a UsageError (exit 2) saying why the plan cannot serve it. `to` is capped at the
 * start of the current hour so that chunk ids, hence lake keys, stay the same when an interrupted
 * backfill is started again within the hour.
 */
function checkedPlan(
  options: BackfillCommandOptions,
  coinIds: readonly string[],
  extraCalls: number,
): BackfillPlan {
  const now = options.now ?? new Date();
  const request: BackfillRequest = {
    plan: options.config.coingecko.plan,
    coinIds,
    // Every configured quote currency (VS_CURRENCIES): the plan counts the chunks of all of them.
    vsCurrencies: options.config.vsCurrencies,
    from: options.from,
    to: new Date(Math.min(options.to.getTime(), Math.floor(now.getTime() / HOUR_MS) * HOUR_MS)),
    granularity: options.granularity,
    now,
    callsPerMinute: options.source.kind === 'live' ? options.config.coingecko.callsPerMinute : undefined,
    extraCalls,
    ignoreHistoryWindow: options.source.kind === 'replay',
  };
  try {
    return planBackfill(request);
  } catch (error) {
    if (error instanceof BackfillPlanError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * `crypto-pipeline backfill`: history from /coins/{id}/market_chart/range into fact_price_history,
 * through the lake and the load function like every snapshot. The plan is checked before the first
 * call; started again after an interruption it picks up where it stopped (see run-backfill.ts).
 * Returns 0 when every chunk loaded, 1 when some failed, 130 when interrupted.
 */
export async function backfillCommand(options: BackfillCommandOptions): Promise<number> {
  const { config, out, json, logger } = options;
  if (options.top !== undefined && options.source.kind === 'replay') {
    throw new UsageError(
      '--top needs a market to rank coins; with --source replay:DIR name them with --coins',
    );
  }
  if (options.stack && options.top !== undefined && options.source.kind !== 'live') {
    throw new UsageError('--top with --stack ranks the real market: add --source live');
  }
  // Checked before any call; with --top the ids come from /coins/markets, whose pages count too.
  const placeholderIds = options.coins ?? Array.from({ length: options.top ?? 0 }, (_, i) => `top-${i + 1}`);
  const extraCalls = options.top === undefined ? 0 : topCoinPages(options.top);
  let plan = checkedPlan(options, placeholderIds, extraCalls);

  const market = await openMarket(options.source, config.coingecko, {
    onProgress: clientProgressPrinter(logger),
  });
  const pipelineLog: Logger = options.verbose ? logger : { log: () => undefined };
  try {
    if (options.top !== undefined) {
      const ids = await topCoinIds(market.source, config.vsCurrency, options.top);
      plan = checkedPlan(options, ids, extraCalls);
    }
    // The local stand-ins have no rate limit: the plan's pace applies to the live API only.
    if (options.printRequests) {
      for (const chunk of plan.chunks) out(JSON.stringify(backfillRequestOf(chunk)));
      return 0;
    }
    if (options.stack) return await publishToStack(plan, options.stack, json, out);
    if (!json) out(`backfill: ${plan.summary}${options.source.kind === 'live' ? `, ${plan.pace}` : ''}`);
    const twin = await Twin.open({ config, logger: pipelineLog, publishSnapshots: true });
    try {
      const progress = createProgress({ json, out, stream: options.stream });
      progress.start(plan.chunks.length);
      const result = await runBackfill(plan.chunks, {
        history: market.source,
        lake: twin.lake,
        publisher: twin.bus,
        warehouse: twin.warehouse,
        clock: systemClock,
        logger: pipelineLog,
        secrets: [config.coingecko.apiKey],
        signal: options.signal,
        onChunk: (report, done, total) => progress.chunk(report, done, total),
      });
      progress.stop();
      // Every published chunk is loaded (or dead-lettered) before the summary, also when interrupted.
      await twin.settle();
      const summary = await summarise(twin, plan, result.reports, result.interrupted);
      if (json) out(toJson(summary));
      else for (const line of describeSummary(summary)) out(line);
      if (result.interrupted) return INTERRUPTED_EXIT_CODE;
      return summary.chunks.failed > 0 || summary.loads.rejected > 0 || summary.loads.deadLettered > 0
        ? 1
        : 0;
    } finally {
      await twin.close();
    }
  } finally {
    await market.close();
  }
}

/** `backfill --stack`: the plan's requests on the stack's topic; 0 when all were published. */
async function publishToStack(
  plan: BackfillPlan,
  stack: NonNullable<BackfillCommandOptions['stack']>,
  json: boolean,
  out: (line: string) => void,
): Promise<number> {
  // Loaded on demand: the twin's commands never need the Google REST clients.
  const { publishBackfillRequests } = await import('../../../ops/backfill/cloud-backfill.js');
  if (!json) out(`backfill: ${plan.summary}, publishing the requests to the stack`);
  const summary = await publishBackfillRequests(plan.chunks, stack.target, stack.env, stack.deps);
  if (json) out(toJson(summary));
  else {
    out(
      `published ${summary.published} of ${summary.requests} chunk request(s) to ${summary.topic}, ` +
        `${summary.failed.length} failed; the stack's extract fetches them at the plan's pace ` +
        '(watch ops_backfill_chunk)',
    );
    for (const f of summary.failed) out(`failed ${f.chunkId}: ${f.reason}`);
  }
  return summary.failed.length === 0 ? 0 : 1;
}

export interface BackfillSummary {
  plan: { chunks: number; calls: number; summary: string };
  interrupted: boolean;
  chunks: Record<ChunkReport['outcome'], number> & { handled: number };
  loads: {
    loaded: number;
    alreadyLoaded: number;
    rejected: number;
    deadLettered: number;
    pointsInserted: number;
  };
  /** Rows fact_price_history holds for the backfilled coins, currencies, range and granularity. */
  rowsInRange: number;
  failures: { chunkId: string; code: string; message: string; object: string | undefined }[];
}

async function summarise(
  twin: Twin,
  plan: BackfillPlan,
  reports: ChunkReport[],
  interrupted: boolean,
): Promise<BackfillSummary> {
  const count = (outcome: ChunkReport['outcome']) => reports.filter((r) => r.outcome === outcome).length;
  const loads = twin.historyLoads;
  // One count per coin and currency backfilled (a chunk's key says both).
  const series = new Map(plan.chunks.map((c) => [`${c.coinId} ${c.vsCurrency}`, c]));
  const first = plan.chunks[0];
  let rowsInRange = 0;
  if (first) {
    const sqlTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
    const from = sqlTime(Math.min(...plan.chunks.map((c) => c.from.getTime())));
    const to = sqlTime(Math.max(...plan.chunks.map((c) => c.to.getTime())));
    for (const { coinId, vsCurrency } of series.values()) {
      const [row] = await twin.warehouse.query(
        `select count(*) as n from fact_price_history
         where coin_id = $coin and vs_currency = $vs and granularity = $granularity
           and ts >= cast($from as timestamp) and ts < cast($to as timestamp)`,
        { coin: coinId, vs: vsCurrency, granularity: first.granularity, from, to },
      );
      rowsInRange += Number(row?.n ?? 0);
    }
  }
  return {
    plan: { chunks: plan.chunks.length, calls: plan.calls, summary: plan.summary },
    interrupted,
    chunks: {
      handled: reports.length,
      fetched: count('fetched'),
      redelivered: count('redelivered'),
      already_loaded: count('already_loaded'),
      failed: count('failed'),
    },
    loads: {
      loaded: loads.filter((l) => l.status === 'loaded').length,
      alreadyLoaded: loads.filter((l) => l.status === 'already_loaded').length,
      rejected: loads.filter((l) => l.status === 'rejected').length,
      deadLettered: (await twin.bus.deadLetters()).length,
      pointsInserted: loads.reduce((n, l) => n + l.pointsInserted, 0),
    },
    rowsInRange,
    failures: reports
      .filter((r) => r.outcome === 'failed')
      .map((r) => ({
        chunkId: r.chunk.chunkId,
        code: r.error?.code ?? 'unknown',
        message: r.error?.message ?? '',
        object: r.object,
      })),
  };
}

function describeSummary(s: BackfillSummary): string[] {
  const lines = [
    `${s.interrupted ? 'interrupted after' : 'done:'} ${s.chunks.handled} of ${s.plan.chunks} chunk(s): ` +
      `${s.chunks.fetched} fetched, ${s.chunks.redelivered} loaded again from the lake, ` +
      `${s.chunks.already_loaded} already loaded, ${s.chunks.failed} failed; ` +
      `${s.loads.pointsInserted} point(s) added; fact_price_history holds ${s.rowsInRange} for this range`,
  ];
  for (const f of s.failures)
    lines.push(`failed ${f.chunkId}: ${f.message} (kept in the lake: ${f.object ?? '-'})`);
  if (s.loads.rejected > 0)
    lines.push(`${s.loads.rejected} chunk(s) could not be loaded (see ops_backfill_chunk)`);
  if (s.loads.deadLettered > 0)
    lines.push(`${s.loads.deadLettered} event(s) dead-lettered (crypto-pipeline redrive)`);
  if (s.interrupted) lines.push('run the same command again to finish: chunks already loaded are skipped');
  return lines;
}
