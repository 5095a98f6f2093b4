import { JSON_CONTENT_TYPE, type MarketResponse } from './types.js';

/**
 * What the twin's stand-ins need to answer /coins/{id}/market_chart/range like CoinGecko: the
 * sample times its auto granularity gives a range, the 10012 answer beyond a plan's window, and
 * the body shape.
 */
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** `[unix ms, value]` pairs, as every market_chart series is. */
export type ChartSeries = [number, number][];

export interface ChartBody {
  prices: ChartSeries;
  market_caps: ChartSeries;
  total_volumes: ChartSeries;
}

/**
 * The times CoinGecko samples a range at: every 5 minutes up to a day, hourly up to 90 days,
 * daily (00:00 UTC) beyond, nothing after `now`, and "now" itself last when the range reaches it.
 * Hourly samples are a few seconds and milliseconds past the hour, as in real answers.
 */
export function chartSampleTimes(fromMs: number, toMs: number, nowMs: number): number[] {
  const end = Math.min(toMs, nowMs);
  const span = toMs - fromMs;
  const step = span <= DAY_MS ? 5 * MINUTE_MS : span <= 90 * DAY_MS ? HOUR_MS : DAY_MS;
  const times: number[] = [];
  for (let grid = Math.ceil(fromMs / step) * step; grid <= end; grid += step) {
    const jitter = step === HOUR_MS ? ((grid / HOUR_MS) % 50) * 1000 + 317 : 0;
    if (grid + jitter <= end) times.push(grid + jitter);
  }
  if (toMs >= nowMs && times.at(-1) !== nowMs) times.push(nowMs);
  return times;
}

/** CoinGecko's answer to a range beyond the plan's history window (its newer error envelope). */
export function beyondWindowResponse(now: Date, windowDays: number): MarketResponse {
  return {
    status: 401,
    headers: { 'content-type': JSON_CONTENT_TYPE },
    body: JSON.stringify({
      error: {
        status: {
          timestamp: now.toISOString(),
          error_code: 10012,
          error_message: `Your request exceeds the allowed time range. Public API users are limited to querying historical data within the past ${windowDays} days.`,
        },
      },
    }),
  };
}

/** The real API's answer for an id it does not list. */
export const COIN_NOT_FOUND: MarketResponse = {
  status: 404,
  headers: { 'content-type': JSON_CONTENT_TYPE },
  body: '{"error":"coin not found"}',
};
