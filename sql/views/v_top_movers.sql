-- The newest slot's biggest movers over 24 hours, per quote currency: the 10 assets with the
-- largest rise of price_change_percentage_24h (direction 'gainer') and the 10 with the largest fall
-- ('loser'), ranked 1 to 10 within their direction, as the source reported the change at that
-- slot. An asset that did not move (0 %) or has no 24h change is neither. The asset is shown as it
-- is now.
--
-- Partition filter: bounds itself, like v_latest_snapshot, to the last 7 days with a constant filter
-- (current_date() arithmetic); "the newest slot" cannot take a filter from the outer query. When
-- nothing was loaded for a week the view is empty, which is what a stale warehouse should show.
create or replace view {{dataset}}.v_top_movers as
with recent as (
  select
    f.snapshot_date,
    f.slot_ts,
    f.vs_currency,
    f.asset_key,
    f.coin_id,
    f.market_cap_rank,
    f.current_price,
    f.market_cap,
    f.price_change_24h,
    f.price_change_percentage_24h
  from {{dataset}}.fact_market_snapshot as f
  where f.snapshot_date >= date_sub(current_date(), interval 7 day)
),
newest as (
  select
    r.snapshot_date,
    r.slot_ts,
    r.vs_currency,
    r.asset_key,
    r.coin_id,
    r.market_cap_rank,
    r.current_price,
    r.market_cap,
    r.price_change_24h,
    r.price_change_percentage_24h
  from recent as r
  qualify r.slot_ts = max(r.slot_ts) over (partition by r.vs_currency)
),
ranked as (
  select
    n.snapshot_date,
    n.slot_ts,
    n.vs_currency,
    n.asset_key,
    n.coin_id,
    n.market_cap_rank,
    n.current_price,
    n.market_cap,
    n.price_change_24h,
    n.price_change_percentage_24h,
    case when n.price_change_percentage_24h > 0 then 'gainer' else 'loser' end as direction,
    row_number() over (
      partition by n.vs_currency, n.price_change_percentage_24h > 0
      order by abs(n.price_change_percentage_24h) desc, n.coin_id
    ) as mover_rank
  from newest as n
  where n.price_change_percentage_24h <> 0
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
  k.snapshot_date,
  k.slot_ts,
  k.vs_currency,
  k.direction,
  k.mover_rank,
  k.asset_key,
  k.coin_id,
  c.symbol,
  c.name,
  k.market_cap_rank,
  k.current_price,
  k.market_cap,
  k.price_change_24h,
  k.price_change_percentage_24h
from ranked as k
left join current_asset as c
  on c.asset_key = k.asset_key
where k.mover_rank <= 10;
