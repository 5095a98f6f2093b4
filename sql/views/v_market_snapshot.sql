-- Every snapshot with its calendar attributes and its asset both as it was at the slot (the version
-- in effect then: *_at_slot columns) and as it is now (symbol, name, image_url).
--
-- Partition filter: fact_market_snapshot requires a filter on snapshot_date, and a view does not
-- lift that requirement; the filter has to come from the query that uses the view. snapshot_date
-- here is the fact's partitioning column itself (not an expression over it) on the preserved side
-- of every join, so BigQuery pushes a filter on it down to the fact scan and prunes partitions.
-- Dashboards must therefore always filter snapshot_date with constant bounds (literals, query
-- parameters or current_date() arithmetic): in Looker Studio, make snapshot_date the data source's
-- date range dimension. A query without it fails with "Cannot query over table ... without a
-- filter over column(s) 'snapshot_date' that can be used for partition elimination".
create or replace view {{dataset}}.v_market_snapshot as
with asset_version as (
  select
    a.asset_key,
    a.asset_version_key,
    a.symbol,
    a.name,
    a.image_url,
    a.valid_from,
    lead(a.valid_from) over (partition by a.asset_key order by a.valid_from) as valid_to
  from {{dataset}}.dim_asset as a
),
current_asset as (
  select
    v.asset_key,
    v.symbol,
    v.name,
    v.image_url
  from asset_version as v
  where v.valid_to is null
)
select
  f.snapshot_date,
  f.slot_ts,
  f.vs_currency,
  f.asset_key,
  f.coin_id,
  c.symbol,
  c.name,
  c.image_url,
  v.asset_version_key,
  v.symbol as symbol_at_slot,
  v.name as name_at_slot,
  v.image_url as image_url_at_slot,
  d.year,
  d.quarter,
  d.month,
  d.month_name,
  d.day_of_month,
  d.day_of_week,
  d.day_name,
  d.iso_year,
  d.iso_week,
  d.is_weekend,
  f.last_updated,
  f.market_cap_rank,
  f.current_price,
  f.market_cap,
  f.fully_diluted_valuation,
  f.total_volume,
  f.high_24h,
  f.low_24h,
  f.price_change_24h,
  f.price_change_percentage_24h,
  f.market_cap_change_24h,
  f.market_cap_change_percentage_24h,
  f.circulating_supply,
  f.total_supply,
  f.max_supply,
  f.ath,
  f.ath_change_percentage,
  f.ath_date,
  f.atl,
  f.atl_change_percentage,
  f.atl_date,
  f.roi_times,
  f.roi_currency,
  f.roi_percentage,
  f.run_id,
  f.loaded_at
from {{dataset}}.fact_market_snapshot as f
join {{dataset}}.dim_date as d
  on d.date_key = f.date_key
left join asset_version as v
  on v.asset_key = f.asset_key
  and v.valid_from <= f.slot_ts
  and (v.valid_to is null or f.slot_ts < v.valid_to)
left join current_asset as c
  on c.asset_key = f.asset_key;
