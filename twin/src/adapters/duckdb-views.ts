/**
 * The twin's views: the same names, columns (in the same order) and meaning as sql/views/ in
 * BigQuery, in DuckDB's dialect, so `crypto-pipeline query` and the local dashboard read what Looker
 * Studio reads in the cloud. tests/sql/view-parity.test.ts holds the two engines to that.
 *
 * Views that BigQuery bounds by `current_date()` (the fact requires a partition filter) are bounded
 * here too, by `reporting_date()`: a macro that is `current_date` in every warehouse, so "the last 7
 * days" means the same in both engines. It is a macro rather than `current_date` written inline so
 * that a test on historical data (the corpus) can pin "today" with a temporary macro of the same
 * name, which DuckDB resolves before the stored one.
 */

/** Columns of the fact a snapshot view shows, in sql/views' order (ath/atl dates after their figures). */
const SNAPSHOT_MEASURES = `last_updated, market_cap_rank, current_price, market_cap, fully_diluted_valuation,
  total_volume, high_24h, low_24h, price_change_24h, price_change_percentage_24h, market_cap_change_24h,
  market_cap_change_percentage_24h, circulating_supply, total_supply, max_supply, ath,
  ath_change_percentage, ath_date, atl, atl_change_percentage, atl_date, roi_times, roi_currency,
  roi_percentage, run_id`;
const prefixed = (alias: string, columns: string) =>
  columns
    .split(',')
    .map((c) => `${alias}.${c.trim()}`)
    .join(', ');

/** The newest version of every asset: "the asset as it is now". */
const CURRENT_ASSET = `select a.asset_key, a.symbol, a.name, a.image_url from dim_asset as a
   qualify row_number() over (partition by a.asset_key order by a.valid_from desc) = 1`;

export const DUCKDB_VIEWS: readonly string[] = [
  `create or replace macro reporting_date() as current_date`,
  `create or replace view v_dim_asset as
   select a.asset_version_key, a.asset_key, a.coin_id, a.symbol, a.name, a.image_url, a.attributes_hash,
          a.valid_from,
          lead(a.valid_from) over asset_history as valid_to,
          lead(a.valid_from) over asset_history is null as is_current,
          a.run_id, a.loaded_at
   from dim_asset as a
   window asset_history as (partition by a.asset_key order by a.valid_from)`,
  `create or replace view v_market_snapshot as
   select f.snapshot_date, f.slot_ts, f.vs_currency, f.asset_key, f.coin_id,
          cur.symbol, cur.name, cur.image_url,
          was.asset_version_key, was.symbol as symbol_at_slot, was.name as name_at_slot,
          was.image_url as image_url_at_slot,
          d.year, d.quarter, d.month, d.month_name, d.day_of_month, d.day_of_week, d.day_name,
          d.iso_year, d.iso_week, d.is_weekend,
          ${prefixed('f', SNAPSHOT_MEASURES)}, f.loaded_at
   from fact_market_snapshot as f
   join dim_date as d on d.date_key = f.date_key
   left join v_dim_asset as was
     on was.asset_key = f.asset_key and was.valid_from <= f.slot_ts
    and (was.valid_to is null or f.slot_ts < was.valid_to)
   left join v_dim_asset as cur on cur.asset_key = f.asset_key and cur.is_current`,
  `create or replace view v_latest_snapshot as
   with latest as (
     select f.* from fact_market_snapshot as f
     where f.snapshot_date >= reporting_date() - 7
     qualify row_number() over (partition by f.asset_key, f.vs_currency order by f.slot_ts desc) = 1
   ),
   current_asset as (${CURRENT_ASSET})
   select l.snapshot_date, l.slot_ts, l.vs_currency, l.asset_key, l.coin_id, c.symbol, c.name, c.image_url,
          ${prefixed('l', SNAPSHOT_MEASURES)}
   from latest as l left join current_asset as c on c.asset_key = l.asset_key`,
  `create or replace view v_daily_ohlc as
   with daily as (
     select f.snapshot_date, f.asset_key, f.vs_currency, any_value(f.coin_id) as coin_id,
            arg_min(f.current_price, f.slot_ts) filter (where f.current_price is not null) as open_price,
            max(f.current_price) as high_price,
            min(f.current_price) as low_price,
            arg_max(f.current_price, f.slot_ts) filter (where f.current_price is not null) as close_price,
            count(f.current_price) as priced_snapshots,
            min(f.slot_ts) as first_slot_ts,
            max(f.slot_ts) as last_slot_ts
     from fact_market_snapshot as f
     group by f.snapshot_date, f.asset_key, f.vs_currency
   ),
   current_asset as (${CURRENT_ASSET})
   select d.snapshot_date, d.asset_key, d.coin_id, c.symbol, c.name, d.vs_currency,
          d.open_price, d.high_price, d.low_price, d.close_price, d.priced_snapshots,
          d.first_slot_ts, d.last_slot_ts
   from daily as d left join current_asset as c on c.asset_key = d.asset_key`,
  // Same windows as sql/views/v_daily_indicators.sql: rows over days that have a close.
  `create or replace view v_daily_indicators as
   with daily_close as (
     select f.snapshot_date, f.asset_key, f.vs_currency, any_value(f.coin_id) as coin_id,
            arg_max(f.current_price, f.slot_ts) filter (where f.current_price is not null) as close_price,
            arg_max(f.market_cap, f.slot_ts) filter (where f.market_cap is not null) as close_market_cap
     from fact_market_snapshot as f
     where f.snapshot_date >= reporting_date() - 400
     group by f.snapshot_date, f.asset_key, f.vs_currency
   ),
   with_previous as (
     select d.*, lag(d.close_price) over (partition by d.asset_key, d.vs_currency order by d.snapshot_date) as previous_close
     from daily_close as d where d.close_price is not null
   ),
   indicators as (
     select p.*, case when p.close_price > 0 and p.previous_close > 0 then ln(p.close_price / p.previous_close) end as log_return
     from with_previous as p
   ),
   windowed as (
     select i.*,
            avg(i.close_price) over (by_day rows between 6 preceding and current row) as sma_7d,
            avg(i.close_price) over (by_day rows between 29 preceding and current row) as sma_30d,
            stddev_samp(i.log_return) over (by_day rows between 29 preceding and current row) as volatility_30d,
            count(*) over (by_day rows between 29 preceding and current row) as close_days_30d
     from indicators as i
     window by_day as (partition by i.asset_key, i.vs_currency order by i.snapshot_date)
   ),
   current_asset as (${CURRENT_ASSET})
   select w.snapshot_date, w.asset_key, w.coin_id, c.symbol, c.name, w.vs_currency, w.close_price,
          w.close_market_cap, w.log_return, w.sma_7d, w.sma_30d, w.volatility_30d, w.close_days_30d
   from windowed as w left join current_asset as c on c.asset_key = w.asset_key
   where w.snapshot_date >= reporting_date() - 365`,
  `create or replace view v_market_dominance as
   with current_asset as (${CURRENT_ASSET})
   select f.snapshot_date, f.slot_ts, f.asset_key, f.coin_id, c.symbol, c.name, f.vs_currency,
          f.market_cap_rank, f.market_cap,
          100 * f.market_cap / nullif(sum(f.market_cap) over (partition by f.snapshot_date, f.slot_ts, f.vs_currency), 0)
            as dominance_pct
   from fact_market_snapshot as f left join current_asset as c on c.asset_key = f.asset_key`,
  `create or replace view v_top_movers as
   with newest as (
     select f.* from fact_market_snapshot as f
     where f.snapshot_date >= reporting_date() - 7
     qualify f.slot_ts = max(f.slot_ts) over (partition by f.vs_currency)
   ),
   ranked as (
     select n.*,
            case when n.price_change_percentage_24h > 0 then 'gainer' else 'loser' end as direction,
            row_number() over (partition by n.vs_currency, n.price_change_percentage_24h > 0
                               order by abs(n.price_change_percentage_24h) desc, n.coin_id) as mover_rank
     from newest as n where n.price_change_percentage_24h <> 0
   ),
   current_asset as (${CURRENT_ASSET})
   select k.snapshot_date, k.slot_ts, k.vs_currency, k.direction, k.mover_rank, k.asset_key, k.coin_id,
          c.symbol, c.name, k.market_cap_rank, k.current_price, k.market_cap, k.price_change_24h,
          k.price_change_percentage_24h
   from ranked as k left join current_asset as c on c.asset_key = k.asset_key
   where k.mover_rank <= 10`,
  `create or replace view v_run_health as
   select r.run_id, r.source, r.vs_currency, r.slot_ts, cast(r.slot_ts as date) as slot_date, r.status,
          r.status = 'loaded' as is_loaded, r.records_in, r.records_loaded, r.records_rejected,
          r.records_duplicate, r.asset_versions_new, r.load_started_at, r.load_finished_at,
          date_sub('second', r.slot_ts, r.load_started_at) as start_lag_seconds,
          date_sub('second', r.slot_ts, r.load_finished_at) as lag_seconds,
          date_sub('millisecond', r.load_started_at, r.load_finished_at) as load_duration_ms,
          r.error_code, r.error_message, r.updated_at
   from ops_run as r`,
  // BigQuery's timestamp_diff counts whole minutes, as date_sub does (date_diff counts boundaries).
  `create or replace view v_freshness as
   select r.source, r.vs_currency, max(r.slot_ts) as newest_slot_ts,
          max(r.load_finished_at) as newest_load_finished_at,
          date_sub('minute', max(r.slot_ts), cast(now() as timestamp)) as minutes_since_newest_slot,
          count(*) as runs_loaded
   from ops_run as r
   where r.status = 'loaded'
   group by r.source, r.vs_currency`,
  // Same as sql/views/v_price_history.sql: snapshots and backfilled history, labelled by source.
  `create or replace view v_price_history as
   with current_asset as (${CURRENT_ASSET}),
   price_point as (
     select f.asset_key, f.coin_id, f.vs_currency, f.slot_ts as ts, f.current_price as price, f.market_cap,
            f.total_volume, 'snapshot' as granularity, 'snapshot' as source, f.snapshot_date as price_date
     from fact_market_snapshot as f
     where f.snapshot_date >= reporting_date() - 3660 and f.current_price is not null
     union all
     select h.asset_key, h.coin_id, h.vs_currency, h.ts, h.price, h.market_cap, h.total_volume,
            h.granularity, 'backfill' as source, h.history_date as price_date
     from fact_price_history as h
     where h.history_date >= reporting_date() - 3660
   )
   select p.coin_id, p.vs_currency, p.ts, p.price, p.market_cap, p.total_volume, p.granularity, p.source,
          p.price_date, coalesce(c.symbol, p.coin_id) as symbol
   from price_point as p left join current_asset as c on c.asset_key = p.asset_key`,
];
