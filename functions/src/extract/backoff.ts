/**
 * Retry timing for the market API: full-jitter exponential backoff and `retry-after` parsing.
 * Pure functions (time and randomness are passed in) so the rules are unit-tested without waiting.
 */

export interface BackoffPolicy {
  /** Upper bound of the first retry's delay. */
  baseMs: number;
  /** No single delay exceeds this, however many attempts failed. */
  capMs: number;
}

/** About 1s, doubling, never above 30s: CoinGecko's rate windows are one minute wide. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 30_000 };

/**
 * Delay before the next attempt after `failedAttempts` failures (1 = the first attempt failed).
 * Full jitter (uniform in `[0, min(cap, base * 2^(n-1)))`) rather than equal jitter: overlapping
 * runs that hit the same 429 spread out instead of retrying in lockstep.
 */
export function fullJitterDelay(
  failedAttempts: number,
  random: () => number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number {
  const exponent = Math.max(0, Math.floor(failedAttempts) - 1);
  // 2 ** 60 would still be finite, but clamping the exponent keeps the arithmetic obviously safe.
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(exponent, 30));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}

const DELTA_SECONDS = /^\d+(?:\.\d+)?$/;
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d{2}:\\d{2}:\\d{2}';
// The three HTTP-date forms of RFC 9110 §5.6.7. V8's Date.parse alone is far too lenient (it reads
// "soon 5" or "3" as dates), so only strings of these shapes are handed to it.
const IMF_FIXDATE = new RegExp(`^${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT$`, 'i');
const RFC850_DATE = new RegExp(`^${LONG_DAY}, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT$`, 'i');
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} [ \\d]\\d ${TIME} \\d{4}$`, 'i');

/**
 * The wait a `retry-after` header asks for, in ms, or undefined when it gives no usable hint.
 * `0`, an absent or unparsable value and a date already past all mean "no hint": the caller then
 * falls back to its own backoff instead of hammering the API immediately.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (DELTA_SECONDS.test(raw)) {
    const ms = Math.ceil(Number(raw) * 1000);
    return ms > 0 ? ms : undefined;
  }
  let dateText: string | undefined;
  if (IMF_FIXDATE.test(raw) || RFC850_DATE.test(raw)) dateText = raw;
  // asctime carries no zone but is defined as UTC; without the suffix V8 would read local time.
  else if (ASCTIME_DATE.test(raw)) dateText = `${raw} GMT`;
  if (dateText === undefined) return undefined;
  const at = Date.parse(dateText);
  if (Number.isNaN(at)) return undefined;
  const ms = at - now.getTime();
  return ms > 0 ? ms : undefined;
}
