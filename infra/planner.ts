import { CronExpressionParser } from 'cron-parser';
import { PLANS, type Plan } from '../functions/src/config.js';
import { floorToSlot } from '../functions/src/core/run-identity.js';

/**
 * The CoinGecko call budget of a deployment (ARCHITECTURE.md §4: "the plan's per-minute and monthly
 * call budgets are checked against schedule x pages before deploying"). Pure: infra/index.ts calls
 * it at program start, so a configuration over budget fails `pulumi preview`, before anything is
 * created.
 */
export interface BudgetInput {
  plan: Plan;
  coinLimit: number;
  perPage: number;
  /** Cloud Scheduler cron (5 fields, evaluated in UTC like the job's time zone). */
  schedule: string;
  cadenceMinutes: number;
  /**
   * Quote currencies (default 1): each fire starts one run per currency, all at the same minute, so
   * every figure scales with it.
   */
  currencies?: number;
}

export interface BudgetPlan {
  plan: Plan;
  /** Calls per run: one per page of /coins/markets. */
  pages: number;
  /** Runs per fire: one per quote currency. */
  currencies: number;
  /** Runs of every currency. */
  runsPerMonth: number;
  callsPerMonth: number;
  /** Calls in the busiest minute: every call of a run is made back to back when it starts. */
  peakCallsPerMinute: number;
  callsPerMinuteLimit: number;
  /** Undefined for the keyless plan, which has no monthly quota. */
  monthlyCallsLimit: number | undefined;
  /** Share of the monthly budget used, 0-1 (undefined without a monthly quota). */
  monthlyUse: number | undefined;
  perMinuteUse: number;
  /** One line for `pulumi.log.info`. */
  summary: string;
  /** Set when the plan fits but with little headroom for retries and manual runs. */
  warning: string | undefined;
}

export class BudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetError';
  }
}

/**
 * The schedule is evaluated over a year (2026, UTC) and judged by its busiest 31-day window starting
 * on a month's first day: the longest month there is, whatever months the cron is restricted to.
 */
const YEAR = 2026;
const WINDOW_DAYS = 31;
const MINUTE = 60_000;
const DAY = 86_400_000;
const WINDOW_MINUTES = WINDOW_DAYS * 1440;
/** Above this share of a budget, retries and manual runs may tip the plan over: warn. */
const HEADROOM = 0.8;

const fmt = (n: number) => n.toLocaleString('en-US');
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * Every time a 5-field unix cron (Cloud Scheduler's format) fires from `from` (inclusive) to `to`
 * (exclusive), in UTC. cron-parser parses and validates the fields; the minutes are then walked
 * directly, which is two orders of magnitude faster than cron-parser's iterator over a year.
 * Day of month and day of week combine as in Vixie cron: when both are restricted, either matches.
 */
export function cronFires(schedule: string, from: Date, to: Date): Date[] {
  const parts = schedule.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new BudgetError(
      `schedule '${schedule}' is not a 5-field unix cron, the format Cloud Scheduler takes`,
    );
  }
  // cron-parser extensions (last day, nth weekday, ?) are not unix-cron; Cloud Scheduler rejects them.
  if (/[LW?]/i.test(parts[2]!) || /[L#?]/i.test(parts[4]!)) {
    throw new BudgetError(
      `schedule '${schedule}' uses L, W, # or ?, which unix-cron (Cloud Scheduler) does not have`,
    );
  }
  let fields;
  try {
    fields = CronExpressionParser.parse(schedule, { tz: 'UTC' }).fields;
  } catch (e) {
    throw new BudgetError(`schedule '${schedule}' is not a valid cron expression: ${(e as Error).message}`);
  }
  const set = (values: readonly (number | string)[]) => new Set(values.map(Number));
  const minutes = set(fields.minute.values);
  const hours = set(fields.hour.values);
  const days = set(fields.dayOfMonth.values);
  const months = set(fields.month.values);
  const weekdays = set(fields.dayOfWeek.values);
  if (weekdays.has(7)) weekdays.add(0);
  const either = !parts[2]!.startsWith('*') && !parts[4]!.startsWith('*');

  const fires: Date[] = [];
  for (let day = Math.floor(from.getTime() / DAY) * DAY; day < to.getTime(); day += DAY) {
    const d = new Date(day);
    if (!months.has(d.getUTCMonth() + 1)) continue;
    const dom = days.has(d.getUTCDate());
    const dow = weekdays.has(d.getUTCDay());
    if (!(either ? dom || dow : dom && dow)) continue;
    for (const h of hours) {
      for (const m of minutes) {
        const t = day + h * 3_600_000 + m * MINUTE;
        if (t >= from.getTime() && t < to.getTime()) fires.push(new Date(t));
      }
    }
  }
  return fires.sort((a, b) => a.getTime() - b.getTime());
}

/** Fires in the busiest 31-day window (starting on a month's first day) of the year, and its start. */
export function busiestMonth(schedule: string): { start: Date; fires: Date[] } {
  const all = cronFires(
    schedule,
    new Date(Date.UTC(YEAR, 0, 1)),
    new Date(Date.UTC(YEAR + 1, 0, 1) + WINDOW_DAYS * DAY),
  );
  let best = { start: new Date(Date.UTC(YEAR, 0, 1)), fires: [] as Date[] };
  for (let month = 0; month < 12; month++) {
    const start = Date.UTC(YEAR, month, 1);
    const end = start + WINDOW_DAYS * DAY;
    const fires = all.filter((f) => f.getTime() >= start && f.getTime() < end);
    if (fires.length > best.fires.length) best = { start: new Date(start), fires };
  }
  return best;
}

/**
 * Plans the call budget, or throws a BudgetError that names the numbers and what to change when
 * the configuration would exceed the plan's per-minute or monthly budget, or when the schedule
 * fires more than once per slot (a second fire in a slot is the same run again: wasted calls).
 */
export function planBudget(input: BudgetInput): BudgetPlan {
  const limits = PLANS[input.plan];
  const pages = Math.ceil(input.coinLimit / input.perPage);
  const { fires } = busiestMonth(input.schedule);
  if (fires.length === 0) throw new BudgetError(`schedule '${input.schedule}' never fires in ${YEAR}`);

  const perSlot = new Map<number, number>();
  const perMinute = new Map<number, number>();
  for (const at of fires) {
    const slot = floorToSlot(at, input.cadenceMinutes).getTime();
    perSlot.set(slot, (perSlot.get(slot) ?? 0) + 1);
    const minute = Math.floor(at.getTime() / 60_000);
    perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
  }
  const [busySlot, firesInSlot] = [...perSlot.entries()].reduce((a, b) => (b[1] > a[1] ? b : a));
  if (firesInSlot > 1) {
    throw new BudgetError(
      `schedule '${input.schedule}' fires ${firesInSlot} times in the ${input.cadenceMinutes}-minute slot starting ` +
        `${new Date(busySlot).toISOString()}; every fire in a slot is the same run, so the extra ones only spend ` +
        `CoinGecko calls. Make the schedule fire at most once per cadenceMinutes (e.g. '*/${input.cadenceMinutes} * * * *' ` +
        `for cadences under an hour), or lower cadenceMinutes.`,
    );
  }

  const currencies = input.currencies ?? 1;
  if (!Number.isInteger(currencies) || currencies < 1)
    throw new BudgetError(`currencies must be a whole number of at least 1, got ${currencies}`);
  const runsPerMonth = fires.length * currencies;
  const callsPerMonth = pages * runsPerMonth;
  const busiestMinuteRuns = Math.max(...perMinute.values()) * currencies;
  const peakCallsPerMinute = pages * busiestMinuteRuns;
  const monthlyLimit = limits.monthlyCalls;
  const perMinuteLimit = limits.callsPerMinute;
  const where =
    `${pages} page(s) per run (coinLimit ${fmt(input.coinLimit)} / perPage ${input.perPage})` +
    (currencies > 1 ? ` x ${currencies} currencies` : '');

  if (peakCallsPerMinute > perMinuteLimit) {
    const maxCoins = Math.floor(perMinuteLimit / busiestMinuteRuns) * input.perPage;
    throw new BudgetError(
      `CoinGecko ${input.plan} plan per-minute budget exceeded: ${where} = ${fmt(peakCallsPerMinute)} calls in one minute ` +
        `> ${fmt(perMinuteLimit)} calls per minute. Lower coinLimit to at most ${fmt(maxCoins)}, raise perPage (max 250), ` +
        `or move to a plan with a higher rate limit.`,
    );
  }
  if (monthlyLimit !== undefined && callsPerMonth > monthlyLimit) {
    // Every fire is `currencies` runs: the gap between fires grows with them.
    const maxFires = Math.floor(monthlyLimit / (pages * currencies));
    const minGapMinutes = Math.ceil(WINDOW_MINUTES / Math.max(maxFires, 1));
    const maxCoins = Math.floor(monthlyLimit / runsPerMonth) * input.perPage;
    throw new BudgetError(
      `CoinGecko ${input.plan} plan monthly budget exceeded: ${where} x ${fmt(runsPerMonth)} runs in a 31-day month ` +
        `(schedule '${input.schedule}') = ${fmt(callsPerMonth)} calls > ${fmt(monthlyLimit)} calls per month. ` +
        `Run at most every ${minGapMinutes} minutes (schedule and cadenceMinutes), or lower coinLimit to at most ` +
        `${fmt(maxCoins)}${currencies > 1 ? ', or list fewer currencies' : ''}${input.plan === 'pro' ? '' : ', or move to the pro plan'}.`,
    );
  }

  const monthlyUse = monthlyLimit === undefined ? undefined : callsPerMonth / monthlyLimit;
  const perMinuteUse = peakCallsPerMinute / perMinuteLimit;
  const summary =
    `CoinGecko ${input.plan} plan: ${where}, ${fmt(runsPerMonth)} runs in a 31-day month = ` +
    `${fmt(callsPerMonth)} calls` +
    (monthlyLimit === undefined ? ' (no monthly quota)' : ` of ${fmt(monthlyLimit)} (${pct(monthlyUse!)})`) +
    `; peak ${fmt(peakCallsPerMinute)} of ${fmt(perMinuteLimit)} calls per minute (${pct(perMinuteUse)}).`;
  const tight = (monthlyUse ?? 0) > HEADROOM || perMinuteUse > HEADROOM;
  return {
    plan: input.plan,
    pages,
    currencies,
    runsPerMonth,
    callsPerMonth,
    peakCallsPerMinute,
    callsPerMinuteLimit: perMinuteLimit,
    monthlyCallsLimit: monthlyLimit,
    monthlyUse,
    perMinuteUse,
    summary,
    warning: tight
      ? `CoinGecko budget above ${pct(HEADROOM)}: retries and manual runs (gcloud scheduler jobs run) also spend calls.`
      : undefined,
  };
}
