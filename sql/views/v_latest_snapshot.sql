-- The newest snapshot of every asset and quote currency seen in the last 7 days, with the asset as
-- it is now. An asset absent from every run of that week has no latest snapshot here.
--
-- Partition filter: unlike the other fact views, this one carries its own constant filter on
-- snapshot_date (relative to current_date(), which BigQuery accepts for partition elimination),
-- so dashboards query it without a date filter. It has to: a filter from the outer query could
-- not reach the fact scan through the latest-row window, which spans all dates of an asset.
create or replace view {{dataset}}.v_latest_snapshot as
with latest as (
  select
    f.snapshot_date,
    f.slot_ts,
    f.vs_currency,
    f.asset_key,
    f.coin_id,
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
    f.run_id
  from {{dataset}}.fact_market_snapshot as f
  where f.snapshot_date >= date_sub(current_date(), interval 7 day)
  qualify row_number() over (partition by f.asset_key, f.vs_currency order by f.slot_ts desc) = 1
),
current_asset as (
  select
    a.asset_key,
    a.symbol,
    a.name,
    a.image_url
  from {{dataset}}.dim_asset as a
  qualify row_number() over (partition by a.asset_key order by a.valid_from desc) = 1
)
select
  l.snapshot_date,
  l.slot_ts,
  l.vs_currency,
  l.asset_key,
  l.coin_id,
  c.symbol,
  c.name,
  c.image_url,
  l.last_updated,
  l.market_cap_rank,
  l.current_price,
  l.market_cap,
  l.fully_diluted_valuation,
  l.total_volume,
  l.high_24h,
  l.low_24h,
  l.price_change_24h,
  l.price_change_percentage_24h,
  l.market_cap_change_24h,
  l.market_cap_change_percentage_24h,
  l.circulating_supply,
  l.total_supply,
  l.max_supply,
  l.ath,
  l.ath_change_percentage,
  l.ath_date,
  l.atl,
  l.atl_change_percentage,
  l.atl_date,
  l.roi_times,
  l.roi_currency,
  l.roi_percentage,
  l.run_id
from latest as l
left join current_asset as c
  on c.asset_key = l.asset_key;
