/**
 * The port the backfill fetches history through: CoinGecko's `/coins/{id}/market_chart/range`
 * (the real client, or the twin's simulator and replay server behind the same client).
 */
export interface MarketChartRequest {
  coinId: string;
  vsCurrency: string;
  /** Inclusive, sent as unix seconds. */
  from: Date;
  /** Sent as unix seconds. */
  to: Date;
}

/** One market_chart/range answer, kept verbatim. */
export interface MarketChartResponse {
  /** Request URL without credentials. */
  url: string;
  status: number;
  fetchedAt: string;
  durationMs: number;
  attempts: number;
  /** The response body, byte for byte (already checked to be a market_chart object). */
  body: Buffer;
}

export interface HistorySource {
  readonly description: string;
  /** Fetches one range or throws an ExtractError (a CoinGeckoError with the failing body). */
  fetchMarketChartRange(request: MarketChartRequest): Promise<MarketChartResponse>;
}
