-- Each asset's share of its slot's total market cap, in percent: market_cap over the sum of the
-- market caps of every asset in the same slot and quote currency. The total is that of the assets
-- the pipeline tracks (the top COIN_LIMIT by market cap), not of the whole market; an asset without
-- a market cap adds nothing to the total and has no share. The asset is shown as it is now.
--
-- Partition filter: as with v_market_snapshot, the query using this view must filter
-- snapshot_date with constant bounds (Looker Studio: snapshot_date as the date range dimension).
-- snapshot_date is the fact's own column and a partitioning key of the only window (a slot lies
-- within one day), so a filter on it can be pushed below the window to the fact scan without
-- changing any share; without it the query fails, because the fact requires a partition filter.
create or replace view {{dataset}}.v_market_dominance as
with current_asset as (
  select
    a.asset_key,
    a.symbol,
    a.name
  from {{dataset}}.dim_asset as a
  qualify row_number() over (partition by a.asset_key order by a.valid_from desc) = 1
)
select
  f.snapshot_date,
  f.slot_ts,
  f.asset_key,
  f.coin_id,
  c.symbol,
  c.name,
  f.vs_currency,
  f.market_cap_rank,
  f.market_cap,
  100 * f.market_cap / nullif(
    sum(f.market_cap) over (partition by f.snapshot_date, f.slot_ts, f.vs_currency), 0
  ) as dominance_pct
from {{dataset}}.fact_market_snapshot as f
left join current_asset as c
  on c.asset_key = f.asset_key;
