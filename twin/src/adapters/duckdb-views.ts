/**
 * The twin's views: the same names and meaning as sql/views/ in BigQuery, in DuckDB's dialect, so
 * `crypto-pipeline query` and the local dashboard read what Looker Studio reads in the cloud.
 */
export const DUCKDB_VIEWS: readonly string[] = [
  `create or replace view v_dim_asset as
   select a.*,
          lead(a.valid_from) over (partition by a.asset_key order by a.valid_from) as valid_to,
          lead(a.valid_from) over (partition by a.asset_key order by a.valid_from) is null as is_current
   from dim_asset as a`,
  `create or replace view v_market_snapshot as
   select f.*, d.date, d.year, d.month, d.day_name, d.is_weekend,
          was.symbol as symbol_at_slot, was.name as name_at_slot, was.image_url as image_url_at_slot,
          cur.symbol as symbol, cur.name as name, cur.image_url as image_url
   from fact_market_snapshot as f
   join dim_date as d on d.date_key = f.date_key
   join v_dim_asset as was
     on was.asset_key = f.asset_key and f.slot_ts >= was.valid_from
    and (was.valid_to is null or f.slot_ts < was.valid_to)
   join v_dim_asset as cur on cur.asset_key = f.asset_key and cur.is_current`,
  `create or replace view v_latest_snapshot as
   select s.* from v_market_snapshot as s
   qualify row_number() over (partition by s.asset_key, s.vs_currency order by s.slot_ts desc) = 1`,
  `create or replace view v_run_health as
   select r.run_id, r.slot_ts, r.status, r.records_in, r.records_loaded, r.records_rejected,
          r.records_duplicate, r.error_code, r.error_message,
          date_diff('second', r.slot_ts, r.load_finished_at) as seconds_slot_to_loaded
   from ops_run as r`,
];
