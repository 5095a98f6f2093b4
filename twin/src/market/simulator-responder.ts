import type {
  CoinMarket,
  MarketChartQuery,
  MarketOrder,
  MarketQuery,
  MarketResponder,
  MarketResponse,
} from './types.js';
import {
  beyondWindowResponse,
  chartSampleTimes,
  COIN_NOT_FOUND,
  type ChartBody,
} from './market-chart-series.js';
import { errorEnvelope, JSON_CONTENT_TYPE, jsonResponse } from './types.js';
import { SIMULATOR_VS_CURRENCIES, type MarketSimulator } from './market-simulator.js';

/**
 * Faults the simulator injects into /coins/markets answers, driven by a request counter so a test
 * knows exactly which request fails. When several rules match the same request, the first in this
 * order wins: `errorEnvelope`, `rateLimit`, `serverErrorEveryNth`, `malformedEveryNth`.
 */
export interface FaultPlan {
  /** Every Nth request gets CoinGecko's 429 envelope; `retryAfterSeconds` (0 allowed) sets `retry-after`. */
  rateLimit?: { everyNth: number; retryAfterSeconds?: number };
  /** Every Nth request gets a 500 envelope. */
  serverErrorEveryNth?: number;
  /** Every Nth request gets a body that is not the JSON the client expects. */
  malformedEveryNth?: number;
  /**
   * `cdn-text` (default): Cloudflare's plain-text `error code: 1015` with 429 and no `retry-after`;
   * `html`: a CDN's 502 HTML page; `truncated-json`: a 200 whose JSON array is cut off mid-way.
   */
  malformedKind?: 'cdn-text' | 'html' | 'truncated-json';
  /** A fixed error answer, every request or every Nth (e.g. 401 / 10002 for a missing key). */
  errorEnvelope?: { status: number; code: number; message: string; everyNth?: number };
}

export interface SimulatorResponderOptions {
  /** Where "now" comes from when no time is set; default the real clock. */
  now?: () => Date;
  faults?: FaultPlan;
  /**
   * Days of history market_chart/range serves before answering error 10012, like CoinGecko's
   * public and demo plans (default 365); null serves any range, like a paid plan.
   */
  historyWindowDays?: number | null;
}

export interface SimulatorResponder extends MarketResponder {
  readonly simulator: MarketSimulator;
  /** /coins/markets and market_chart/range requests seen so far (the fault counter). */
  readonly requestCount: number;
  /** Pins the market to `time` (the CLI's `run --slot`); undefined goes back to `now()`. */
  setTime(time: Date | undefined): void;
  /** Replaces the fault plan and restarts the request counter. */
  setFaults(faults: FaultPlan | undefined): void;
  /** Synchronous, so tests can drive it without a server. */
  markets(query: MarketQuery): MarketResponse;
  /** Deterministic history of a simulated coin: the same path /coins/markets samples. */
  marketChartRange(query: MarketChartQuery): MarketResponse;
}

const RATE_LIMIT_MESSAGE =
  "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits.";

const CDN_HTML =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n' +
  '<body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>\n';

function checkEvery(name: string, n: number | undefined): void {
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
    throw new RangeError(`${name} must be a positive integer, got ${n}`);
  }
}

function validateFaults(faults: FaultPlan): void {
  checkEvery('rateLimit.everyNth', faults.rateLimit?.everyNth);
  checkEvery('serverErrorEveryNth', faults.serverErrorEveryNth);
  checkEvery('malformedEveryNth', faults.malformedEveryNth);
  checkEvery('errorEnvelope.everyNth', faults.errorEnvelope?.everyNth);
  const retryAfter = faults.rateLimit?.retryAfterSeconds;
  if (retryAfter !== undefined && (!Number.isInteger(retryAfter) || retryAfter < 0)) {
    throw new RangeError(`rateLimit.retryAfterSeconds must be a non-negative integer, got ${retryAfter}`);
  }
  const status = faults.errorEnvelope?.status;
  if (status !== undefined && (!Number.isInteger(status) || status < 400 || status > 599)) {
    throw new RangeError(`errorEnvelope.status must be an HTTP error status, got ${status}`);
  }
}

const hits = (n: number, every: number | undefined): boolean => every !== undefined && n % every === 0;

function faultFor(faults: FaultPlan, n: number, body: () => string): MarketResponse | undefined {
  const envelope = faults.errorEnvelope;
  if (envelope && (envelope.everyNth === undefined || n % envelope.everyNth === 0)) {
    return errorEnvelope(envelope.status, envelope.message, envelope.code);
  }
  if (faults.rateLimit && hits(n, faults.rateLimit.everyNth)) {
    const response = errorEnvelope(429, RATE_LIMIT_MESSAGE);
    const seconds = faults.rateLimit.retryAfterSeconds;
    return seconds === undefined
      ? response
      : { ...response, headers: { ...response.headers, 'retry-after': String(seconds) } };
  }
  if (hits(n, faults.serverErrorEveryNth)) return errorEnvelope(500, 'Internal server error');
  if (hits(n, faults.malformedEveryNth)) {
    switch (faults.malformedKind ?? 'cdn-text') {
      case 'cdn-text':
        return {
          status: 429,
          headers: { 'content-type': 'text/plain; charset=UTF-8' },
          body: 'error code: 1015',
        };
      case 'html':
        return { status: 502, headers: { 'content-type': 'text/html; charset=UTF-8' }, body: CDN_HTML };
      case 'truncated-json': {
        const full = body();
        return {
          status: 200,
          headers: { 'content-type': JSON_CONTENT_TYPE },
          body: full.slice(0, Math.max(1, Math.floor(full.length / 2))),
        };
      }
    }
  }
  return undefined;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function ordered(rows: CoinMarket[], order: MarketOrder): CoinMarket[] {
  switch (order) {
    case 'market_cap_desc':
      return rows;
    case 'market_cap_asc':
      return [...rows].reverse();
    case 'volume_desc':
      return [...rows].sort((a, b) => b.total_volume - a.total_volume || compareText(a.id, b.id));
    case 'volume_asc':
      return [...rows].sort((a, b) => a.total_volume - b.total_volume || compareText(a.id, b.id));
    case 'id_asc':
      return [...rows].sort((a, b) => compareText(a.id, b.id));
    case 'id_desc':
      return [...rows].sort((a, b) => compareText(b.id, a.id));
  }
}

/**
 * Serves the simulator's market at the pinned time (or `now()`), one page at a time, with optional
 * deterministic faults.
 * @throws RangeError when the fault plan is malformed.
 */
export function simulatorResponder(
  simulator: MarketSimulator,
  options: SimulatorResponderOptions = {},
): SimulatorResponder {
  const now = options.now ?? (() => new Date());
  let pinned: Date | undefined;
  let faults: FaultPlan = options.faults ?? {};
  validateFaults(faults);
  let count = 0;
  // The CLI fetches every page of one slot in a row; one cached market saves recomputing it.
  let cache: { key: string; rows: CoinMarket[] } | undefined;

  const marketFor = (time: Date, vsCurrency: string, sparkline: boolean): CoinMarket[] => {
    const key = `${time.getTime()}|${vsCurrency}|${sparkline}`;
    if (cache?.key !== key) {
      cache = { key, rows: simulator.marketAt(time, { vsCurrency, sparkline }) };
    }
    return cache.rows;
  };

  return {
    simulator,
    get requestCount() {
      return count;
    },
    setTime(time) {
      if (time !== undefined && Number.isNaN(time.getTime())) throw new RangeError('invalid time');
      pinned = time === undefined ? undefined : new Date(time.getTime());
    },
    setFaults(next) {
      const plan = next ?? {};
      validateFaults(plan);
      faults = plan;
      count = 0;
    },
    markets(query: MarketQuery): MarketResponse {
      count += 1;
      const page = (): CoinMarket[] => {
        const rows = ordered(marketFor(pinned ?? now(), query.vsCurrency, query.sparkline), query.order);
        const start = (query.page - 1) * query.perPage;
        return rows.slice(start, start + query.perPage);
      };
      // The real API answers an unknown quote currency with this bare shape, not the envelope.
      if (SIMULATOR_VS_CURRENCIES[query.vsCurrency] === undefined) {
        return {
          status: 400,
          headers: { 'content-type': JSON_CONTENT_TYPE },
          body: '{"error":"invalid vs_currency"}',
        };
      }
      return faultFor(faults, count, () => JSON.stringify(page())) ?? jsonResponse(page());
    },
    marketChartRange(query: MarketChartQuery): MarketResponse {
      count += 1;
      if (SIMULATOR_VS_CURRENCIES[query.vsCurrency] === undefined) {
        return {
          status: 400,
          headers: { 'content-type': JSON_CONTENT_TYPE },
          body: '{"error":"invalid vs_currency"}',
        };
      }
      // History is served as of the real clock: a pinned slot (run --slot) says nothing about it.
      const current = now();
      const windowDays = options.historyWindowDays === undefined ? 365 : options.historyWindowDays;
      if (windowDays !== null && query.from * 1000 < current.getTime() - windowDays * 86_400_000) {
        return beyondWindowResponse(current, windowDays);
      }
      if (simulator.chartPointAt(query.coinId, current, query.vsCurrency) === undefined)
        return COIN_NOT_FOUND;
      const body = (): ChartBody => {
        const chart: ChartBody = { prices: [], market_caps: [], total_volumes: [] };
        for (const t of chartSampleTimes(query.from * 1000, query.to * 1000, current.getTime())) {
          const point = simulator.chartPointAt(query.coinId, new Date(t), query.vsCurrency)!;
          chart.prices.push([t, point.price]);
          chart.market_caps.push([t, point.marketCap]);
          chart.total_volumes.push([t, point.totalVolume]);
        }
        return chart;
      };
      return faultFor(faults, count, () => JSON.stringify(body())) ?? jsonResponse(body());
    },
  };
}
