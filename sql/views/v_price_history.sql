-- Price history per asset and quote currency from both facts, labelled and never mixed up:
-- snapshots (source = 'snapshot', granularity 'snapshot': one point per loaded slot) and backfilled
-- market_chart history (source = 'backfill', granularity 'daily' or 'hourly'). The price chart
-- reads this view, so a new deployment shows history as soon as a backfill has loaded.
-- symbol is the asset's current symbol, or its coin id while no snapshot has named it yet;
-- price_date is the UTC date of ts (each fact's partitioning column).
--
-- Partition filter: both facts require one. The view bounds itself to the last 3660 days with a
-- constant filter (current_date() arithmetic, which BigQuery accepts for partition elimination), so
-- it can be queried without a date filter; a filter on price_date (Looker Studio's date range
-- dimension) is pushed into both branches and prunes further.
create or replace view {{dataset}}.v_price_history as
with current_asset as (
  select
    a.asset_key,
    a.symbol
  from {{dataset}}.dim_asset as a
  qualify row_number() over (partition by a.asset_key order by a.valid_from desc) = 1
),
price_point as (
  select
    f.asset_key,
    f.coin_id,
    f.vs_currency,
    f.slot_ts as ts,
    f.current_price as price,
    f.market_cap,
    f.total_volume,
    'snapshot' as granularity,
    'snapshot' as source,
    f.snapshot_date as price_date
  from {{dataset}}.fact_market_snapshot as f
  where f.snapshot_date >= date_sub(current_date(), interval 3660 day)
    and f.current_price is not null
  union all
  select
    h.asset_key,
    h.coin_id,
    h.vs_currency,
    h.ts,
    h.price,
    h.market_cap,
    h.total_volume,
    h.granularity,
    'backfill' as source,
    h.history_date as price_date
  from {{dataset}}.fact_price_history as h
  where h.history_date >= date_sub(current_date(), interval 3660 day)
)
select
  p.coin_id,
  p.vs_currency,
  p.ts,
  p.price,
  p.market_cap,
  p.total_volume,
  p.granularity,
  p.source,
  p.price_date,
  coalesce(c.symbol, p.coin_id) as symbol
from price_point as p
left join current_asset as c
  on c.asset_key = p.asset_key;
