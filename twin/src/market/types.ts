/**
 * The shapes the twin's CoinGecko stand-ins share: one /coins/markets record as the real API
 * sends it, the validated request the HTTP server hands to a responder, and the answer it sends
 * back. Responders (simulator, replay) know nothing about HTTP, so they can be tested without
 * a socket and swapped behind the same server.
 */

/** `roi` as CoinGecko sends it; null for most coins. */
export interface CoinMarketRoi {
  times: number;
  currency: string;
  percentage: number;
}

/**
 * One item of `GET /api/v3/coins/markets`, with the keys in the order the real API uses (the
 * corpus files), so serialised simulator output looks like a real body byte-pattern-wise.
 */
export interface CoinMarket {
  id: string;
  symbol: string;
  name: string;
  image: string;
  current_price: number;
  market_cap: number;
  market_cap_rank: number | null;
  fully_diluted_valuation: number | null;
  total_volume: number;
  high_24h: number | null;
  low_24h: number | null;
  price_change_24h: number | null;
  price_change_percentage_24h: number | null;
  market_cap_change_24h: number | null;
  market_cap_change_percentage_24h: number | null;
  circulating_supply: number;
  total_supply: number | null;
  max_supply: number | null;
  ath: number;
  ath_change_percentage: number;
  ath_date: string;
  atl: number;
  atl_change_percentage: number;
  atl_date: string;
  roi: CoinMarketRoi | null;
  last_updated: string;
  /** Present only when the request asked for `sparkline=true`: hourly prices over 7 days. */
  sparkline_in_7d?: { price: number[] };
}

/** The `order` values CoinGecko accepts on /coins/markets. */
export const MARKET_ORDERS = [
  'market_cap_desc',
  'market_cap_asc',
  'volume_desc',
  'volume_asc',
  'id_asc',
  'id_desc',
] as const;

export type MarketOrder = (typeof MARKET_ORDERS)[number];

/** The real API's page size ceiling (ARCHITECTURE.md §4). */
export const MAX_PER_PAGE = 250;

/** A /coins/markets request after the server has validated its query string. */
export interface MarketQuery {
  /** Lower-cased. */
  vsCurrency: string;
  order: MarketOrder;
  /** 1..MAX_PER_PAGE. */
  perPage: number;
  /** 1-based. */
  page: number;
  sparkline: boolean;
}

/** What a responder answers; the server adds nothing but transport headers. */
export interface MarketResponse {
  status: number;
  /** Lower-case header names; `content-type` defaults to JSON. */
  headers?: Record<string, string>;
  body: string | Buffer;
}

/** A /coins/{id}/market_chart/range request after the server has validated it. */
export interface MarketChartQuery {
  coinId: string;
  /** Lower-cased. */
  vsCurrency: string;
  /** Unix seconds, as the API takes them. */
  from: number;
  to: number;
}

/** Anything that can answer /coins/markets: the simulator, a replay folder, a test double. */
export interface MarketResponder {
  markets(query: MarketQuery): MarketResponse | Promise<MarketResponse>;
  /** /coins/{id}/market_chart/range; a responder without it answers 404 like an unknown path. */
  marketChartRange?(query: MarketChartQuery): MarketResponse | Promise<MarketResponse>;
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** CoinGecko's error envelope `{"status":{"error_code":N,"error_message":"..."}}`. */
export function errorEnvelope(status: number, message: string, code: number = status): MarketResponse {
  return {
    status,
    headers: { 'content-type': JSON_CONTENT_TYPE },
    body: JSON.stringify({ status: { error_code: code, error_message: message } }),
  };
}

/** A 200 JSON answer. */
export function jsonResponse(value: unknown): MarketResponse {
  return { status: 200, headers: { 'content-type': JSON_CONTENT_TYPE }, body: JSON.stringify(value) };
}
