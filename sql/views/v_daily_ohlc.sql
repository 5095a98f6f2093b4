-- Daily open, high, low and close of current_price per asset and quote currency, from the
-- snapshots of each UTC day: open is the price of the day's first slot with a price, close that
-- of its last. The asset is shown as it is now.
--
-- Partition filter: as with v_market_snapshot, the query using this view must filter
-- snapshot_date with constant bounds (Looker Studio: snapshot_date as the date range dimension).
-- snapshot_date is a grouping column here, so BigQuery pushes that filter below the aggregation
-- to the fact scan; without it the query fails, because the fact requires a partition filter.
create or replace view {{dataset}}.v_daily_ohlc as
with daily as (
  select
    f.snapshot_date,
    f.asset_key,
    f.vs_currency,
    any_value(f.coin_id) as coin_id,
    array_agg(f.current_price ignore nulls order by f.slot_ts asc limit 1)[safe_offset(0)] as open_price,
    max(f.current_price) as high_price,
    min(f.current_price) as low_price,
    array_agg(f.current_price ignore nulls order by f.slot_ts desc limit 1)[safe_offset(0)] as close_price,
    count(f.current_price) as priced_snapshots,
    min(f.slot_ts) as first_slot_ts,
    max(f.slot_ts) as last_slot_ts
  from {{dataset}}.fact_market_snapshot as f
  group by f.snapshot_date, f.asset_key, f.vs_currency
),
current_asset as (
  select
    a.asset_key,
    a.symbol,
    a.name
  from {{dataset}}.dim_asset as a
  qualify row_number() over (partition by a.asset_key order by a.valid_from desc) = 1
)
select
  d.snapshot_date,
  d.asset_key,
  d.coin_id,
  c.symbol,
  c.name,
  d.vs_currency,
  d.open_price,
  d.high_price,
  d.low_price,
  d.close_price,
  d.priced_snapshots,
  d.first_slot_ts,
  d.last_slot_ts
from daily as d
left join current_asset as c
  on c.asset_key = d.asset_key;
