import { PLANS, type Plan } from '../config.js';
import { compactUtc } from '../core/run-identity.js';

/**
 * The pure backfill planner: which `/coins/{id}/market_chart/range` calls a backfill needs, and
 * whether the CoinGecko plan allows them, decided before the first call (ARCHITECTURE.md §4: budgets
 * are checked up front). The per-minute and monthly limits are the plan table of functions/src/config
 * (PLANS), the same one infra/planner.ts checks the schedule against.
 */
export const GRANULARITIES = ['daily', 'hourly'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * CoinGecko picks the granularity of a range from its length (auto granularity): up to 1 day
 * 5-minutely, 2 to 90 days hourly, above 90 days daily. Hourly chunks therefore stay at 90 days;
 * daily chunks are longer than 90 days where the range allows, and a shorter daily chunk (hourly
 * answer) is thinned to one point per day by the parser.
 */
export const MAX_HOURLY_CHUNK_DAYS = 90;
/** Daily chunks: one call per coin and year keeps a chunk (and a lost chunk on a crash) small. */
export const MAX_DAILY_CHUNK_DAYS = 365;

/**
 * How far back each plan serves history. CoinGecko's public and demo plans serve about the last
 * 365 days (older ranges answer error 10012); paid plans go back to 2013, so no window is checked.
 */
export const HISTORY_WINDOW_DAYS: Record<Plan, number | undefined> = {
  keyless: 365,
  demo: 365,
  pro: undefined,
};

/** One `/market_chart/range` call: a half-open range [from, to) of one coin in one currency. */
export interface HistoryChunk {
  chunkId: string;
  coinId: string;
  vsCurrency: string;
  granularity: Granularity;
  from: Date;
  to: Date;
}

export interface BackfillRequest {
  plan: Plan;
  coinIds: readonly string[];
  /** Quote currencies (VS_CURRENCIES): one chunk series per coin and currency. */
  vsCurrencies: readonly string[];
  /** Start of the first day, UTC (inclusive). */
  from: Date;
  /** End of the range, UTC (exclusive): the day after `--to`, or now when that is in the future. */
  to: Date;
  granularity: Granularity;
  now: Date;
  /** The rate the client keeps (COINGECKO_CALLS_PER_MINUTE); defaults to the plan's. */
  callsPerMinute?: number;
  /** Calls already known to be needed first (e.g. the /coins/markets pages of `--top N`). */
  extraCalls?: number;
  /**
   * Saved answers (replay) hold whatever range was saved, however old: the plan's history window
   * does not apply to them.
   */
  ignoreHistoryWindow?: boolean;
}

export interface BackfillPlan {
  chunks: HistoryChunk[];
  /** market_chart calls plus `extraCalls`. */
  calls: number;
  callsPerMinute: number;
  monthlyCallsLimit: number | undefined;
  /** Shortest possible duration at the plan's pace, in ms. */
  minDurationMs: number;
  /** Chunks, coins, range and calls, for a log line. */
  summary: string;
  /** The plan's pace, e.g. `at 30 per minute at least 4 min` (live API only). */
  pace: string;
}

/** The request cannot be served by the plan (or makes no sense): said before any call. */
export class BackfillPlanError extends Error {
  override readonly name = 'BackfillPlanError';
}

/** CoinGecko ids are lower-case slugs (`bitcoin`, `usd-coin`, `wrapped-bitcoin`). */
export const COIN_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** A chunk's deterministic id: re-planning the same range gives the same ids, hence the same lake keys. */
export function historyChunkId(c: Omit<HistoryChunk, 'chunkId'>): string {
  return `${c.coinId}_${c.vsCurrency}_${c.granularity}_${compactUtc(c.from)}_${compactUtc(c.to)}`;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Splits the request into chunks aligned on whole days from `from` (so the same `--from` always
 * gives the same chunks) and checks it against the plan.
 * @throws BackfillPlanError naming the limit and what to change.
 */
export function planBackfill(request: BackfillRequest): BackfillPlan {
  const { plan, granularity, now } = request;
  const limits = PLANS[plan];
  const from = request.from.getTime();
  const to = Math.min(request.to.getTime(), now.getTime());
  const coinIds = [...new Set(request.coinIds)];
  if (coinIds.length === 0) throw new BackfillPlanError('no coins to backfill');
  const badId = coinIds.find((id) => !COIN_ID_PATTERN.test(id));
  if (badId !== undefined) {
    throw new BackfillPlanError(
      `"${badId}" is not a CoinGecko coin id (lower-case, like bitcoin or usd-coin)`,
    );
  }
  const vsCurrencies = [...new Set(request.vsCurrencies)];
  if (vsCurrencies.length === 0) throw new BackfillPlanError('no quote currency to backfill');
  const badCurrency = vsCurrencies.find((c) => !/^[a-z0-9]{2,10}$/.test(c));
  if (badCurrency !== undefined) {
    throw new BackfillPlanError(
      `vs_currency must be a lower-case currency code such as usd, got "${badCurrency}"`,
    );
  }
  if (from % DAY_MS !== 0) throw new BackfillPlanError('--from must be a UTC date (midnight)');
  if (from >= now.getTime()) throw new BackfillPlanError(`--from ${day(request.from)} is not in the past`);
  if (from >= to) throw new BackfillPlanError(`--from ${day(request.from)} must come before --to`);

  const windowDays = request.ignoreHistoryWindow ? undefined : HISTORY_WINDOW_DAYS[plan];
  if (windowDays !== undefined) {
    const earliest = now.getTime() - windowDays * DAY_MS;
    if (from < earliest) {
      const firstDay = new Date(Math.ceil(earliest / DAY_MS) * DAY_MS);
      throw new BackfillPlanError(
        `CoinGecko ${plan} plan serves about the last ${windowDays} days of history: --from ${day(request.from)} ` +
          `is before ${day(new Date(earliest))} (CoinGecko would answer error 10012). Use --from ${day(firstDay)} ` +
          `or later, or the pro plan (COINGECKO_PLAN=pro).`,
      );
    }
  }

  const chunkMs = (granularity === 'hourly' ? MAX_HOURLY_CHUNK_DAYS : MAX_DAILY_CHUNK_DAYS) * DAY_MS;
  const chunks: HistoryChunk[] = [];
  for (const coinId of coinIds) {
    for (const vsCurrency of vsCurrencies) {
      for (let start = from; start < to; start += chunkMs) {
        const end = Math.min(start + chunkMs, to);
        const base = { coinId, vsCurrency, granularity, from: new Date(start), to: new Date(end) };
        chunks.push({ chunkId: historyChunkId(base), ...base });
      }
    }
  }

  const callsPerMinute = request.callsPerMinute ?? limits.callsPerMinute;
  const calls = chunks.length + (request.extraCalls ?? 0);
  const monthly = limits.monthlyCalls;
  if (monthly !== undefined && calls > monthly) {
    throw new BackfillPlanError(
      `CoinGecko ${plan} plan monthly budget exceeded: ${coinIds.length} coin(s) x ${vsCurrencies.length} currency(ies) x ` +
        `${day(request.from)}..${day(new Date(to))} ` +
        `(${granularity}) = ${fmt(calls)} calls > ${fmt(monthly)} calls per month. Backfill fewer coins, a shorter ` +
        `range or daily granularity${plan === 'pro' ? '' : ', or move to the pro plan'}.`,
    );
  }
  if (callsPerMinute > limits.callsPerMinute) {
    throw new BackfillPlanError(
      `COINGECKO_CALLS_PER_MINUTE ${callsPerMinute} is above the ${plan} plan's ${limits.callsPerMinute} calls per minute`,
    );
  }
  const minDurationMs = Math.max(0, calls - 1) * (60_000 / callsPerMinute);
  const summary =
    `${fmt(chunks.length)} chunk(s) for ${coinIds.length} coin(s) in ${vsCurrencies.join(', ')}, ${granularity}, ` +
    // `to` is exclusive: the start of the day after --to, or of the current hour when that is sooner.
    `${day(request.from)} up to ${new Date(to).toISOString().slice(0, 16).replace('T', ' ')} UTC: ${fmt(calls)} call(s)` +
    (monthly === undefined ? '' : ` of ${fmt(monthly)} a month`);
  const pace = `at ${fmt(callsPerMinute)} per minute at least ${Math.ceil(minDurationMs / 60_000)} min`;
  return { chunks, calls, callsPerMinute, monthlyCallsLimit: monthly, minDurationMs, summary, pace };
}
