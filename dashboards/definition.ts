/**
 * The one dashboard definition: its pages, its charts, which analytics view feeds each chart and how
 * values are formatted. It is rendered twice: as a Looker Studio report (looker-studio-url.ts builds
 * the Linking API URL with one BigQuery data source per view used here) and as the twin's local
 * dashboard (twin/src/dashboard/, which serves each chart's rows from the same view in DuckDB).
 * The views and their columns are the contract both engines keep (tests/sql/view-parity.test.ts).
 */

/** The analytics views a chart may read (sql/views/ and twin/src/adapters/duckdb-views.ts). */
export type AnalyticsView =
  | 'v_market_snapshot'
  | 'v_latest_snapshot'
  | 'v_daily_ohlc'
  | 'v_daily_indicators'
  | 'v_market_dominance'
  | 'v_top_movers'
  | 'v_freshness'
  | 'v_run_health'
  | 'v_price_history';

/**
 * How a value is shown: compact currency ($1.2T), full currency with the precision a price needs,
 * a value already in percent (12.3 -> 12.3%), a ratio shown as a percentage (0.034 -> 3.4%), a compact count, a UTC date or time, or whole minutes.
 */
export type ValueFormat =
  | 'currency_compact'
  | 'currency_price'
  | 'percent'
  | 'ratio_percent'
  | 'number_compact'
  | 'date_utc'
  | 'datetime_utc'
  | 'minutes';

export type ChartKind = 'line' | 'candlestick' | 'bar' | 'kpi' | 'table';

/** A column of the view a chart plots, with its label and format. */
export interface Measure {
  column: string;
  label: string;
  format: ValueFormat;
}

/** Which of the dashboard's filters apply to a chart, and on which of its view's columns. */
export interface ChartFilters {
  /** Filter rows to the selected assets (on coin_id). */
  assets: boolean;
  /** Filter rows to the selected UTC date range, on this date column; null: not date-filtered. */
  dateColumn: 'snapshot_date' | 'slot_date' | 'price_date' | null;
  /**
   * Filter rows to the selected quote currency (on vs_currency). With several currencies
   * configured, a chart that mixed them would draw a dollar and a euro price as one series.
   */
  currency: boolean;
}

/**
 * The dashboard's quote-currency control: a single-value drop-down on this column, shared by every
 * chart whose filters say `currency` (Looker Studio: a drop-down list control on the field of the
 * same name in each data source; the twin: the currency selector).
 */
export interface CurrencyControl {
  column: 'vs_currency';
  label: string;
}

export interface ChartDef {
  id: string;
  title: string;
  /** One sentence under the title: what the reader is looking at. */
  subtitle: string;
  kind: ChartKind;
  view: AnalyticsView;
  /** The category or time axis (kpi: none). */
  x?: { column: string; format: ValueFormat };
  /** Split into one series per value of this column (e.g. symbol). */
  seriesBy?: string;
  measures: readonly Measure[];
  /** Further columns the rendering reads (e.g. a run's status to mark failures). */
  extraColumns?: readonly string[];
  filters: ChartFilters;
  /** Only the first selected asset (charts that cannot overlay assets, e.g. candles). */
  singleAsset?: boolean;
  /** Row order for the chart's query; the server only accepts this definition's own values. */
  orderBy: string;
  /** Upper bound on rows fetched for the chart (keeps a long history cheap to draw). */
  limit: number;
}

export interface PageDef {
  id: string;
  title: string;
  charts: readonly ChartDef[];
}

export interface DashboardDef {
  title: string;
  currencyControl: CurrencyControl;
  pages: readonly PageDef[];
}

const MARKET_FILTERS: ChartFilters = { assets: true, dateColumn: 'snapshot_date', currency: true };

export const DASHBOARD: DashboardDef = {
  title: 'Crypto market',
  currencyControl: { column: 'vs_currency', label: 'Quote currency' },
  pages: [
    {
      id: 'market',
      title: 'Market',
      charts: [
        {
          id: 'price_history',
          title: 'Price',
          // v_price_history: backfilled history and snapshots, so a new deployment has a chart.
          subtitle: 'Price at every slot and backfilled point, per asset (log scale)',
          kind: 'line',
          view: 'v_price_history',
          x: { column: 'ts', format: 'datetime_utc' },
          seriesBy: 'symbol',
          measures: [{ column: 'price', label: 'Price', format: 'currency_price' }],
          filters: { assets: true, dateColumn: 'price_date', currency: true },
          orderBy: 'ts',
          limit: 20_000,
        },
        {
          id: 'market_cap_history',
          title: 'Market cap',
          subtitle: 'Market capitalisation at every slot, per asset',
          kind: 'line',
          view: 'v_market_snapshot',
          x: { column: 'slot_ts', format: 'datetime_utc' },
          seriesBy: 'symbol',
          measures: [{ column: 'market_cap', label: 'Market cap', format: 'currency_compact' }],
          filters: MARKET_FILTERS,
          orderBy: 'slot_ts',
          limit: 20_000,
        },
        {
          id: 'moving_averages',
          title: 'Daily close and moving averages',
          subtitle: 'Close with its 7- and 30-day simple moving averages (first selected asset)',
          kind: 'line',
          view: 'v_daily_indicators',
          x: { column: 'snapshot_date', format: 'date_utc' },
          measures: [
            { column: 'close_price', label: 'Close', format: 'currency_price' },
            { column: 'sma_7d', label: 'SMA 7d', format: 'currency_price' },
            { column: 'sma_30d', label: 'SMA 30d', format: 'currency_price' },
          ],
          filters: MARKET_FILTERS,
          singleAsset: true,
          orderBy: 'snapshot_date',
          limit: 2_000,
        },
        {
          id: 'daily_candles',
          title: 'Daily candles',
          subtitle: 'Open, high, low and close of each UTC day (first selected asset)',
          kind: 'candlestick',
          view: 'v_daily_ohlc',
          x: { column: 'snapshot_date', format: 'date_utc' },
          measures: [
            { column: 'open_price', label: 'Open', format: 'currency_price' },
            { column: 'close_price', label: 'Close', format: 'currency_price' },
            { column: 'low_price', label: 'Low', format: 'currency_price' },
            { column: 'high_price', label: 'High', format: 'currency_price' },
          ],
          filters: MARKET_FILTERS,
          singleAsset: true,
          orderBy: 'snapshot_date',
          limit: 2_000,
        },
        {
          id: 'volatility',
          title: '30-day volatility',
          subtitle: 'Sample standard deviation of daily log returns over 30 days',
          kind: 'line',
          view: 'v_daily_indicators',
          x: { column: 'snapshot_date', format: 'date_utc' },
          seriesBy: 'symbol',
          measures: [{ column: 'volatility_30d', label: 'Volatility', format: 'ratio_percent' }],
          filters: MARKET_FILTERS,
          orderBy: 'snapshot_date',
          limit: 10_000,
        },
        {
          id: 'dominance',
          title: 'Market dominance',
          subtitle: "Share of the tracked assets' total market cap at every slot",
          kind: 'line',
          view: 'v_market_dominance',
          x: { column: 'slot_ts', format: 'datetime_utc' },
          seriesBy: 'symbol',
          measures: [{ column: 'dominance_pct', label: 'Dominance', format: 'percent' }],
          filters: MARKET_FILTERS,
          orderBy: 'slot_ts',
          limit: 20_000,
        },
        {
          id: 'top_movers',
          title: 'Top movers, 24h',
          subtitle: 'Biggest gainers and losers at the newest slot (all tracked assets)',
          kind: 'bar',
          view: 'v_top_movers',
          x: { column: 'symbol', format: 'number_compact' },
          measures: [{ column: 'price_change_percentage_24h', label: '24h change', format: 'percent' }],
          filters: { assets: false, dateColumn: null, currency: true },
          orderBy: 'price_change_percentage_24h desc',
          limit: 20,
        },
      ],
    },
    {
      id: 'pipeline',
      title: 'Pipeline health',
      charts: [
        {
          id: 'freshness',
          title: 'Freshness',
          subtitle: 'Newest loaded slot and how long ago it was',
          kind: 'kpi',
          view: 'v_freshness',
          measures: [
            { column: 'newest_slot_ts', label: 'Newest slot', format: 'datetime_utc' },
            { column: 'minutes_since_newest_slot', label: 'Age', format: 'minutes' },
            { column: 'runs_loaded', label: 'Runs loaded', format: 'number_compact' },
          ],
          filters: { assets: false, dateColumn: null, currency: true },
          orderBy: 'newest_slot_ts desc',
          limit: 10,
        },
        {
          id: 'run_health',
          title: 'Runs',
          subtitle: 'Records loaded and rejected per run; failed runs in red',
          kind: 'bar',
          view: 'v_run_health',
          x: { column: 'slot_ts', format: 'datetime_utc' },
          measures: [
            { column: 'records_loaded', label: 'Loaded', format: 'number_compact' },
            { column: 'records_rejected', label: 'Rejected', format: 'number_compact' },
          ],
          extraColumns: ['status', 'error_code'],
          filters: { assets: false, dateColumn: 'slot_date', currency: true },
          orderBy: 'slot_ts',
          limit: 500,
        },
      ],
    },
  ],
};

/** Every chart of a dashboard, page by page. */
export const allCharts = (dashboard: DashboardDef = DASHBOARD): ChartDef[] =>
  dashboard.pages.flatMap((p) => [...p.charts]);

/** The views a dashboard reads, each once, in the order charts first use them. */
export function viewsUsed(dashboard: DashboardDef = DASHBOARD): AnalyticsView[] {
  return [...new Set(allCharts(dashboard).map((c) => c.view))];
}
