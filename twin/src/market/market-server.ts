import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  errorEnvelope,
  JSON_CONTENT_TYPE,
  MARKET_ORDERS,
  MAX_PER_PAGE,
  type MarketChartQuery,
  type MarketOrder,
  type MarketQuery,
  type MarketResponder,
  type MarketResponse,
} from './types.js';

/**
 * A plain node:http server speaking the slice of CoinGecko's API the pipeline uses, in front of any
 * {@link MarketResponder}. The extract stage points its base URL here instead of
 * `api.coingecko.com`, so the same client code, retries and error handling run against it.
 */

export interface MarketServerOptions {
  /** Default 0: the OS picks a free port (tests run in parallel). */
  port?: number;
}

export interface MarketServer {
  /** `http://127.0.0.1:<port>`, the host root; the API lives under `/api/v3`. */
  readonly url: string;
  /** `${url}/api/v3`, what a CoinGecko client takes as its base URL. */
  readonly apiUrl: string;
  /** Stops listening and ends open keep-alive sockets, so callers never hang. Idempotent. */
  close(): Promise<void>;
}

const API = '/api/v3';
const PING_BODY = '{"gecko_says":"(V3) To the Moon!"}';
// What the real API answers on a path it does not know (not the status envelope).
const NOT_FOUND_BODY = '{"error":"Incorrect path. Please check https://www.coingecko.com/api/documentation"}';

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function positiveInt(params: URLSearchParams, name: string, fallback: number, max: number): Parsed<number> {
  const raw = params.get(name);
  if (raw === null || raw === '') return { ok: true, value: fallback };
  // Strict digits: `Number('1e2')`, `' 7'` and `'0x10'` would otherwise slip through as numbers.
  const value = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    return {
      ok: false,
      message: `${name} must be an integer between 1 and ${max}, got ${JSON.stringify(raw)}`,
    };
  }
  return { ok: true, value };
}

/** Validates the /coins/markets query the way the real API does, one specific message per problem. */
export function parseMarketQuery(params: URLSearchParams): Parsed<MarketQuery> {
  const vsCurrency = (params.get('vs_currency') ?? '').trim().toLowerCase();
  if (vsCurrency === '') return { ok: false, message: 'Missing parameter vs_currency' };
  if (!/^[a-z0-9]{1,10}$/.test(vsCurrency)) {
    return {
      ok: false,
      message: `vs_currency is not a currency code, got ${JSON.stringify(params.get('vs_currency'))}`,
    };
  }
  const order = (params.get('order') || 'market_cap_desc').toLowerCase();
  if (!(MARKET_ORDERS as readonly string[]).includes(order)) {
    return {
      ok: false,
      message: `order must be one of ${MARKET_ORDERS.join(', ')}, got ${JSON.stringify(order)}`,
    };
  }
  const perPage = positiveInt(params, 'per_page', 100, MAX_PER_PAGE);
  if (!perPage.ok) return perPage;
  const page = positiveInt(params, 'page', 1, 999_999_999);
  if (!page.ok) return page;
  const sparklineRaw = (params.get('sparkline') || 'false').toLowerCase();
  if (sparklineRaw !== 'true' && sparklineRaw !== 'false') {
    return { ok: false, message: `sparkline must be true or false, got ${JSON.stringify(sparklineRaw)}` };
  }
  return {
    ok: true,
    value: {
      vsCurrency,
      order: order as MarketOrder,
      perPage: perPage.value,
      page: page.value,
      sparkline: sparklineRaw === 'true',
    },
  };
}

const MARKET_CHART_RANGE = new RegExp(`^${API}/coins/([^/]+)/market_chart/range$`);

/** Validates a /coins/{id}/market_chart/range query: currency, and `from` <= `to` in unix seconds. */
export function parseMarketChartQuery(coinId: string, params: URLSearchParams): Parsed<MarketChartQuery> {
  const vsCurrency = (params.get('vs_currency') ?? '').trim().toLowerCase();
  if (vsCurrency === '') return { ok: false, message: 'Missing parameter vs_currency' };
  if (!/^[a-z0-9]{1,10}$/.test(vsCurrency)) {
    return { ok: false, message: `vs_currency is not a currency code, got ${JSON.stringify(vsCurrency)}` };
  }
  const seconds = (name: string): Parsed<number> => {
    const raw = params.get(name);
    if (raw === null || raw === '') return { ok: false, message: `Missing parameter ${name}` };
    const value = /^\d{1,12}(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(value))
      return { ok: false, message: `${name} must be a unix timestamp, got ${JSON.stringify(raw)}` };
    return { ok: true, value };
  };
  const from = seconds('from');
  if (!from.ok) return from;
  const to = seconds('to');
  if (!to.ok) return to;
  if (from.value > to.value) return { ok: false, message: 'from must not be after to' };
  return {
    ok: true,
    value: { coinId: decodeURIComponent(coinId), vsCurrency, from: from.value, to: to.value },
  };
}

function send(req: IncomingMessage, res: ServerResponse, response: MarketResponse): void {
  const body = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : response.body;
  const headers: Record<string, string> = {
    'content-type': JSON_CONTENT_TYPE,
    ...response.headers,
    'content-length': String(body.length),
  };
  res.writeHead(response.status, headers);
  // HEAD gets the GET headers (content-length included) and no body, as HTTP requires.
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function route(source: MarketResponder, req: IncomingMessage): Promise<MarketResponse> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const response = errorEnvelope(405, `method ${req.method ?? '?'} not allowed`);
    return { ...response, headers: { ...response.headers, allow: 'GET, HEAD' } };
  }
  // Split by hand rather than `new URL(req.url, base)`: a request target such as `//host/x` would
  // otherwise be read as a different host.
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const path = (q < 0 ? target : target.slice(0, q)).replace(/\/+$/, '') || '/';
  const params = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
  if (path === `${API}/ping`) {
    return { status: 200, headers: { 'content-type': JSON_CONTENT_TYPE }, body: PING_BODY };
  }
  if (path === `${API}/coins/markets`) {
    const query = parseMarketQuery(params);
    if (!query.ok) return errorEnvelope(400, query.message);
    return await source.markets(query.value);
  }
  const chart = MARKET_CHART_RANGE.exec(path);
  if (chart && source.marketChartRange) {
    const query = parseMarketChartQuery(chart[1]!, params);
    if (!query.ok) return errorEnvelope(400, query.message);
    return await source.marketChartRange(query.value);
  }
  return { status: 404, headers: { 'content-type': JSON_CONTENT_TYPE }, body: NOT_FOUND_BODY };
}

/**
 * Starts the stand-in on 127.0.0.1.
 * @throws when the port cannot be bound.
 */
export async function startMarketServer(
  source: MarketResponder,
  options: MarketServerOptions = {},
): Promise<MarketServer> {
  const server = createServer((req, res) => {
    route(source, req)
      .catch((error: unknown) =>
        // A responder bug must answer like an upstream outage, not kill the twin.
        errorEnvelope(
          500,
          `market stand-in failed: ${error instanceof Error ? error.message : String(error)}`,
        ),
      )
      .then((response) => send(req, res, response))
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    apiUrl: `${url}${API}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Idle keep-alive sockets (fetch/undici and got pool them) would hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
