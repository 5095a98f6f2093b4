import got, { RequestError, TimeoutError } from 'got';
import {
  systemClock,
  type Clock,
  type MarketPage,
  type MarketRequest,
  type MarketSource,
} from '../core/ports.js';
import { ConfigError, PLANS, type CoinGeckoConfig, type Plan } from '../config.js';
import type { HistorySource, MarketChartRequest, MarketChartResponse } from '../history/history-source.js';
import { marketChartShapeProblem } from '../history/market-chart.js';
import { DEFAULT_BACKOFF, fullJitterDelay, parseRetryAfter, type BackoffPolicy } from './backoff.js';
import { CoinGeckoError, ExtractError } from './errors.js';
import { createThrottle } from './throttle.js';

/**
 * The CoinGecko `/coins/markets` client behind the `MarketSource` port (ARCHITECTURE.md §4).
 *
 * got's own retry is off: the pipeline needs one retry policy whose total wait is bounded by a
 * budget shorter than the function timeout, measured on an injected clock, and whose failures say
 * exactly what CoinGecko answered. Every response body is classified here so the rest of the
 * pipeline sees either verbatim pages or one specific, retryable-or-terminal ExtractError.
 */

/** CoinGecko rejects `per_page` above 250. */
export const MAX_PER_PAGE = 250;

const USER_AGENT = 'crypto-market-pipeline/0.1';
const SNIPPET_CHARS = 200;
const PING_PATH = '/api/v3/ping';
const MARKETS_PATH = '/api/v3/coins/markets';

export type CoinGeckoOperation = 'markets' | 'ping' | 'market_chart';

/** Progress of a client call, for CLI output and logs; never carries the API key. */
export type ClientProgress =
  | { kind: 'throttle_wait'; operation: CoinGeckoOperation; page?: number; waitMs: number }
  | {
      kind: 'retry_scheduled';
      operation: CoinGeckoOperation;
      page?: number;
      /** Attempts made so far for this request. */
      attempt: number;
      /** How long the client will wait before the next attempt (throttle included). */
      delayMs: number;
      /** Whether the wait came from the server's `retry-after` or from our own backoff. */
      source: 'retry-after' | 'backoff';
      code: string;
      reason: string;
    }
  | {
      kind: 'page_fetched';
      page: number;
      /** Pages planned; fewer are fetched when a short page shows the market has run out. */
      plannedPages: number;
      records: number;
      attempts: number;
      status: number;
      durationMs: number;
    }
  | { kind: 'ping_ok'; attempts: number; durationMs: number };

/** `CoinGeckoConfig` plus the seams tests and the CLI need. */
export interface CoinGeckoClientOptions extends CoinGeckoConfig {
  /** Time source for throttling, backoff and the retry budget; defaults to the system clock. */
  clock?: Clock;
  /** Uniform [0, 1) source for backoff jitter; defaults to Math.random. */
  random?: () => number;
  /** Called synchronously on progress; a throwing listener is ignored. */
  onProgress?: (event: ClientProgress) => void;
  /** Backoff bounds; defaults to about 1s doubling up to 30s. */
  backoff?: BackoffPolicy;
}

/** Why one attempt failed, before it becomes an error (the attempt count is known only later). */
interface Failure {
  code: string;
  retryable: boolean;
  /** Short description of what came back, e.g. `HTTP 429 (CoinGecko error 429: ...)`. */
  summary: string;
  /** What to do about it, when we know. */
  hint?: string;
  status?: number;
  errorCode?: number | string;
  errorMessage?: string;
  networkCode?: string;
  body?: Buffer;
  retryAfterMs?: number;
  /**
   * False when retrying inside this call cannot help (the host does not resolve, nothing listens):
   * the call fails at once, yet the error stays `retryable` so the platform's next delivery retries.
   */
  retryInCall?: boolean;
}

interface Success {
  status: number;
  body: Buffer;
  json: unknown;
  attempts: number;
  durationMs: number;
  fetchedAt: string;
}

interface Envelope {
  errorCode?: number | string;
  errorMessage?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads CoinGecko's error envelopes: `{"status":{"error_code","error_message"}}`, the newer
 * `{"error":{"status":{...}}}` (e.g. 10012), and the plain `{"error":"..."}` some endpoints use.
 */
export function readErrorEnvelope(json: unknown): Envelope | undefined {
  if (!isRecord(json)) return undefined;
  const nested = isRecord(json.error) && isRecord(json.error.status) ? json.error.status : undefined;
  const status = nested ?? (isRecord(json.status) ? json.status : undefined);
  if (status && ('error_code' in status || 'error_message' in status)) {
    const code = status.error_code;
    const numeric = typeof code === 'string' && /^\d+$/.test(code) ? Number(code) : code;
    return {
      errorCode: typeof numeric === 'number' || typeof numeric === 'string' ? numeric : undefined,
      errorMessage: typeof status.error_message === 'string' ? status.error_message.trim() : undefined,
    };
  }
  if (typeof json.error === 'string') return { errorMessage: json.error.trim() };
  return undefined;
}

type Parsed = { ok: true; value: unknown } | { ok: false };

function parseJson(text: string): Parsed {
  try {
    // A BOM is legal in a body but not in JSON.parse; the bytes kept for the lake are untouched.
    return { ok: true, value: JSON.parse(text.replace(/^\uFEFF/, '')) };
  } catch {
    return { ok: false };
  }
}

function describeEnvelope(envelope: Envelope): string {
  const code = envelope.errorCode === undefined ? 'CoinGecko error' : `CoinGecko error ${envelope.errorCode}`;
  return envelope.errorMessage ? `${code}: ${envelope.errorMessage}` : code;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

/** What the operator should change, for errors CoinGecko documents. */
function hintFor(
  errorCode: number | string | undefined,
  status: number,
  plan: Plan,
  origin: string,
): string | undefined {
  switch (Number(errorCode)) {
    case 10010:
      return `The key is a Pro API key: set COINGECKO_PLAN=pro so it is sent to ${PLANS.pro.host} in the ${PLANS.pro.header} header (it was sent to ${origin}).`;
    case 10011:
      return `The key is a Demo API key: set COINGECKO_PLAN=demo so it is sent to ${PLANS.demo.host} in the ${PLANS.demo.header} header (it was sent to ${origin}).`;
    case 10002:
      return `CoinGecko wants a valid API key: set COINGECKO_API_KEY and COINGECKO_PLAN=demo or pro (the client is on the ${plan} plan).`;
    case 10005:
      return `The ${plan} plan does not include this endpoint or parameter: change the request or the plan.`;
    case 10012:
      return `The request reaches beyond the ${plan} plan's historical data window: ask for a shorter range or upgrade the plan.`;
    case 429:
      return 'Lower COINGECKO_CALLS_PER_MINUTE or run less often.';
    default:
      break;
  }
  if (status === 401) return 'Check COINGECKO_API_KEY and COINGECKO_PLAN.';
  if (status === 404) return `Check that COINGECKO_BASE_URL (${origin}) points at the CoinGecko API.`;
  if (status >= 300 && status < 400) {
    return `Redirects are not followed (the API key must not travel elsewhere): check COINGECKO_BASE_URL (${origin}).`;
  }
  return undefined;
}

/**
 * Classifies one HTTP answer. Order matters: rate limits and server errors are retryable whatever
 * the body (CDNs answer them with HTML or `error code: 1015`); an error envelope is terminal even
 * on a 200; only then is a 2xx body checked for the shape the operation expects.
 */
function classifyResponse(
  status: number,
  retryAfterHeader: string | string[] | undefined,
  body: Buffer,
  now: Date,
  expected: Expectation,
  plan: Plan,
  origin: string,
): Failure | { ok: true; json: unknown } {
  const { validate, malformedCode } = expected;
  const text = body.toString('utf8');
  const parsed = parseJson(text);
  const envelope = parsed.ok ? readErrorEnvelope(parsed.value) : undefined;
  const base = {
    status,
    body,
    errorCode: envelope?.errorCode,
    errorMessage: envelope?.errorMessage,
  };
  const what = envelope
    ? `HTTP ${status} (${describeEnvelope(envelope)})`
    : parsed.ok
      ? `HTTP ${status}`
      : text.trim() === ''
        ? `HTTP ${status} with an empty body`
        : `HTTP ${status} with a non-JSON body "${oneLine(text, 80)}"`;

  if (status === 429 || Number(envelope?.errorCode) === 429) {
    return {
      ...base,
      code: 'coingecko_rate_limited',
      retryable: true,
      summary: what,
      hint: hintFor(429, status, plan, origin),
      retryAfterMs: parseRetryAfter(retryAfterHeader, now),
    };
  }
  if (status === 408 || status >= 500) {
    return {
      ...base,
      code: `coingecko_http_${status}`,
      retryable: true,
      summary: what,
      retryAfterMs: parseRetryAfter(retryAfterHeader, now),
    };
  }
  if (envelope) {
    return {
      ...base,
      code: 'coingecko_api_error',
      retryable: false,
      summary: what,
      hint: hintFor(envelope.errorCode, status, plan, origin),
    };
  }
  if (status < 200 || status >= 300) {
    const snippet = text.trim() === '' ? '' : `: ${oneLine(text, 200)}`;
    return {
      ...base,
      code: `coingecko_http_${status}`,
      retryable: false,
      summary: `HTTP ${status}${snippet}`,
      hint: hintFor(undefined, status, plan, origin),
    };
  }
  if (!parsed.ok) {
    return { ...base, code: malformedCode, retryable: false, summary: what };
  }
  const problem = validate(parsed.value);
  if (problem !== undefined) {
    return { ...base, code: malformedCode, retryable: false, summary: `HTTP ${status} ${problem}` };
  }
  return { ok: true, json: parsed.value };
}

/**
 * Network errors that another attempt seconds later will not fix: the name does not resolve, or
 * nothing answers at the address. Spending the retry budget (minutes) on them only hides the cause.
 * EAI_AGAIN (a DNS server that did not answer) and resets stay ordinary transient errors.
 */
const UNREACHABLE = new Set(['ENOTFOUND', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);

function networkFailure(error: unknown, timeoutMs: number): Failure {
  // got's error objects hold the request options, headers (and so the API key) included; only
  // their code and message are kept, never the object itself as `cause`.
  if (error instanceof TimeoutError) {
    return {
      code: 'coingecko_timeout',
      retryable: true,
      summary: `no response within ${timeoutMs}ms`,
      networkCode: error.code,
    };
  }
  if (error instanceof RequestError && error.code !== undefined && UNREACHABLE.has(error.code)) {
    return {
      code: 'coingecko_unreachable',
      retryable: true,
      retryInCall: false,
      summary: `cannot reach the API (${error.code}: ${error.message})`,
      hint: 'Check the network connection and COINGECKO_BASE_URL.',
      networkCode: error.code,
    };
  }
  if (error instanceof RequestError) {
    return {
      code: 'coingecko_network_error',
      retryable: true,
      summary: `network error ${error.code}: ${error.message}`,
      networkCode: error.code,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 'coingecko_request_invalid',
    retryable: false,
    summary: `request could not be made: ${message}`,
  };
}

/** What a successful answer must look like, and the error code when it does not. */
interface Expectation {
  /** A description of what is wrong with the parsed body, or undefined when it is fine. */
  validate: (json: unknown) => string | undefined;
  malformedCode: string;
}

const MARKETS_BODY: Expectation = {
  malformedCode: 'coingecko_malformed_body',
  validate: (json) =>
    Array.isArray(json)
      ? undefined
      : `body is JSON but not an array of coins: ${oneLine(JSON.stringify(json), 80)}`,
};

// A distinct code: a wrong ping answer usually means COINGECKO_BASE_URL points at something else.
const PING_BODY: Expectation = {
  malformedCode: 'coingecko_ping_unexpected_body',
  validate: (json) =>
    isRecord(json) && typeof json.gecko_says === 'string'
      ? undefined
      : `ping body has no "gecko_says": ${oneLine(JSON.stringify(json), 80)}`,
};

// market_chart/range: points are checked one by one at load; here only that it is that object.
const MARKET_CHART_BODY: Expectation = {
  malformedCode: 'coingecko_malformed_body',
  validate: (json) => {
    const problem = marketChartShapeProblem(json);
    return problem === undefined ? undefined : `${problem}: ${oneLine(JSON.stringify(json), 80)}`;
  },
};

/** Page count and the `per_page` that spreads `coinLimit` evenly over them (300/250 -> 2 x 150). */
export function planPages(coinLimit: number, perPage: number): { pages: number; perPage: number } {
  const size = Math.min(perPage, MAX_PER_PAGE);
  const pages = Math.ceil(coinLimit / size);
  return { pages, perPage: Math.ceil(coinLimit / pages) };
}

/**
 * Creates the CoinGecko market client.
 *
 * Requests start at least `60000 / callsPerMinute` ms apart across every call on the instance.
 * 408, 429, 5xx, network errors and timeouts are retried with full-jitter backoff (a positive
 * `retry-after` replaces the backoff) until the next wait would overrun `retryBudgetMs`, counted
 * from the start of each `fetchMarkets` / `ping`; the deployed function's timeout should exceed the
 * budget plus `requestTimeoutMs`. Everything else fails at once with a terminal CoinGeckoError.
 *
 * @throws ConfigError when a demo or pro plan has no key, or the key appears in the base URL.
 */
export function createCoinGeckoClient(options: CoinGeckoClientOptions): MarketSource & HistorySource {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const plan = PLANS[options.plan];
  const apiKey = options.apiKey?.trim() || undefined;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const origin = new URL(baseUrl).origin;

  if (plan.header !== undefined && apiKey === undefined) {
    throw new ConfigError([`COINGECKO_API_KEY: required for the ${options.plan} plan`]);
  }
  if (apiKey !== undefined && baseUrl.includes(apiKey)) {
    throw new ConfigError(['COINGECKO_BASE_URL: must not contain the API key (it is sent in a header)']);
  }

  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
  if (plan.header !== undefined && apiKey !== undefined) headers[plan.header] = apiKey;

  const throttle = createThrottle(60_000 / options.callsPerMinute, clock);

  const redact = (text: string): string =>
    apiKey !== undefined && apiKey.length >= 4 ? text.split(apiKey).join('[redacted]') : text;

  const emit = (event: ClientProgress): void => {
    try {
      options.onProgress?.(event);
    } catch {
      // Progress output is cosmetic; it must never fail or change a fetch.
    }
  };

  const toError = (
    failure: Failure,
    where: string,
    attempts: number,
    page: number | undefined,
  ): CoinGeckoError => {
    const hint = failure.hint ? ` ${failure.hint}` : '';
    const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
    return new CoinGeckoError(redact(`${where} failed${tries}: ${failure.summary}.${hint}`), {
      code: failure.code,
      retryable: failure.retryable,
      status: failure.status,
      body: failure.body,
      details: detailsOf(failure, page, attempts),
    });
  };

  const detailsOf = (
    failure: Failure,
    page: number | undefined,
    attempts: number,
  ): Record<string, unknown> => ({
    status: failure.status,
    errorCode: failure.errorCode,
    errorMessage: failure.errorMessage === undefined ? undefined : redact(failure.errorMessage),
    page,
    attempts,
    networkCode: failure.networkCode,
    bodySnippet:
      failure.body === undefined ? undefined : redact(failure.body.toString('utf8').slice(0, SNIPPET_CHARS)),
  });

  /** One logical request: throttled attempts until success, a terminal failure or the budget ends. */
  const call = async (
    operation: CoinGeckoOperation,
    url: string,
    page: number | undefined,
    startedMs: number,
    expected: Expectation,
  ): Promise<Success> => {
    const where =
      operation === 'ping'
        ? `CoinGecko ${PING_PATH}`
        : operation === 'market_chart'
          ? `CoinGecko ${new URL(url).pathname.replace(/^.*(\/coins\/)/, '$1')}`
          : `CoinGecko ${MARKETS_PATH} page ${page}`;
    for (let attempts = 1; ; attempts += 1) {
      const waitMs = throttle.pendingMs();
      if (waitMs > 0) emit({ kind: 'throttle_wait', operation, page, waitMs });
      await throttle.acquire();

      const sentAt = clock.now().getTime();
      let outcome: Failure | { ok: true; json: unknown; status: number; body: Buffer };
      try {
        const response = await got(url, {
          headers,
          responseType: 'buffer',
          throwHttpErrors: false,
          retry: { limit: 0 },
          // A redirect could carry the key header to another host; CoinGecko's API never redirects.
          followRedirect: false,
          timeout: { request: options.requestTimeoutMs },
        });
        const result = classifyResponse(
          response.statusCode,
          response.headers['retry-after'],
          response.body,
          clock.now(),
          expected,
          options.plan,
          origin,
        );
        outcome = 'ok' in result ? { ...result, status: response.statusCode, body: response.body } : result;
      } catch (error) {
        outcome = networkFailure(error, options.requestTimeoutMs);
      }
      const done = clock.now();

      if ('ok' in outcome) {
        return {
          status: outcome.status,
          body: outcome.body,
          json: outcome.json,
          attempts,
          durationMs: done.getTime() - sentAt,
          fetchedAt: done.toISOString(),
        };
      }
      if (!outcome.retryable || outcome.retryInCall === false) throw toError(outcome, where, attempts, page);

      const delayMs = outcome.retryAfterMs ?? fullJitterDelay(attempts, random, backoff);
      // The throttle may hold the next attempt longer than the backoff; the budget counts both.
      const effectiveMs = Math.max(delayMs, throttle.pendingMs());
      const elapsedMs = done.getTime() - startedMs;
      if (elapsedMs + effectiveMs > options.retryBudgetMs) {
        throw budgetExhausted(outcome, where, attempts, page, elapsedMs, effectiveMs);
      }
      emit({
        kind: 'retry_scheduled',
        operation,
        page,
        attempt: attempts,
        delayMs: effectiveMs,
        source: outcome.retryAfterMs === undefined ? 'backoff' : 'retry-after',
        code: outcome.code,
        reason: redact(outcome.summary),
      });
      if (delayMs > 0) await clock.sleep(delayMs);
    }
  };

  const budgetExhausted = (
    last: Failure,
    where: string,
    attempts: number,
    page: number | undefined,
    elapsedMs: number,
    nextWaitMs: number,
  ): CoinGeckoError => {
    const hint = last.hint ? ` ${last.hint}` : '';
    const message =
      `${where}: retry budget of ${options.retryBudgetMs}ms exhausted after ${attempts} attempts ` +
      `(${elapsedMs}ms elapsed, next wait ${nextWaitMs}ms); last failure: ${last.summary}.${hint}`;
    // Retryable: the platform's own retry (Scheduler, Pub/Sub redelivery) starts a fresh budget later.
    return new CoinGeckoError(redact(message), {
      code: 'coingecko_retry_budget_exhausted',
      retryable: true,
      status: last.status,
      body: last.body,
      details: {
        ...detailsOf(last, page, attempts),
        lastCode: last.code,
        elapsedMs,
        nextWaitMs,
        budgetMs: options.retryBudgetMs,
      },
    });
  };

  const invalidRequest = (message: string): ExtractError =>
    new ExtractError(message, { code: 'coingecko_request_invalid', retryable: false });

  return {
    description: `coingecko ${options.plan} plan at ${origin}`,

    async ping(): Promise<void> {
      const startedMs = clock.now().getTime();
      const result = await call('ping', `${baseUrl}${PING_PATH}`, undefined, startedMs, PING_BODY);
      emit({ kind: 'ping_ok', attempts: result.attempts, durationMs: result.durationMs });
    },

    async fetchMarketChartRange(request: MarketChartRequest): Promise<MarketChartResponse> {
      const { coinId, vsCurrency, from, to } = request;
      if (!/^[a-z0-9][a-z0-9._-]*$/.test(coinId)) {
        throw invalidRequest(`coin id must be a CoinGecko id such as bitcoin, got "${coinId}"`);
      }
      if (!/^[a-z0-9]{2,10}$/.test(vsCurrency)) {
        throw invalidRequest(
          `vs_currency must be a lower-case currency code such as usd, got "${vsCurrency}"`,
        );
      }
      const query = new URLSearchParams({
        vs_currency: vsCurrency,
        from: String(Math.floor(from.getTime() / 1000)),
        to: String(Math.floor(to.getTime() / 1000)),
      });
      const url = `${baseUrl}/api/v3/coins/${encodeURIComponent(coinId)}/market_chart/range?${query.toString()}`;
      const result = await call('market_chart', url, undefined, clock.now().getTime(), MARKET_CHART_BODY);
      return {
        url,
        status: result.status,
        fetchedAt: result.fetchedAt,
        durationMs: result.durationMs,
        attempts: result.attempts,
        body: result.body,
      };
    },

    async fetchMarkets(request: MarketRequest): Promise<MarketPage[]> {
      const { vsCurrency, coinLimit, perPage } = request;
      if (!/^[a-z0-9]{2,10}$/.test(vsCurrency)) {
        throw invalidRequest(
          `vs_currency must be a lower-case currency code such as usd, got "${vsCurrency}"`,
        );
      }
      if (!Number.isInteger(coinLimit) || coinLimit < 1) {
        throw invalidRequest(`coinLimit must be a positive integer, got ${coinLimit}`);
      }
      if (!Number.isInteger(perPage) || perPage < 1) {
        throw invalidRequest(`perPage must be a positive integer, got ${perPage}`);
      }
      const startedMs = clock.now().getTime();
      const plannedPages = planPages(coinLimit, perPage);
      // Pages are collected locally and returned only when all succeed: no partial result escapes.
      const pages: MarketPage[] = [];
      for (let page = 1; page <= plannedPages.pages; page += 1) {
        const query = new URLSearchParams({
          vs_currency: vsCurrency,
          order: 'market_cap_desc',
          per_page: String(plannedPages.perPage),
          page: String(page),
          sparkline: 'false',
        });
        const url = `${baseUrl}${MARKETS_PATH}?${query.toString()}`;
        const result = await call('markets', url, page, startedMs, MARKETS_BODY);
        const records = (result.json as unknown[]).length;
        pages.push({
          page,
          url,
          status: result.status,
          fetchedAt: result.fetchedAt,
          durationMs: result.durationMs,
          attempts: result.attempts,
          body: result.body,
          records,
        });
        emit({
          kind: 'page_fetched',
          page,
          plannedPages: plannedPages.pages,
          records,
          attempts: result.attempts,
          status: result.status,
          durationMs: result.durationMs,
        });
        // A short page means the market has fewer coins than asked for; later pages would be empty.
        if (records < plannedPages.perPage) break;
      }
      return pages;
    },
  };
}
