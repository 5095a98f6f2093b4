-- Daily indicators per asset and quote currency, from each day's close (as in v_daily_ohlc: the
-- price of the day's last slot with a price). sma_7d and sma_30d are the mean close over the
-- current and the previous 6 (29) days that have a close; volatility_30d is the sample standard
-- deviation of the daily log returns ln(close / previous close) over the current and the previous
-- 29 returns. Windows count days with a close, not calendar days, so a missed day does not shorten
-- a window; a window with fewer days than its length averages the days there are, and
-- volatility_30d needs two returns. A return next to a zero close is undefined (null). The asset is
-- shown as it is now.
--
-- Partition filter: bounds itself. The windows span days, so a date filter from the outer query
-- could not be pushed below them to the fact scan (and would cut them short if it were). The view
-- reads the last 400 days with a constant filter (current_date() arithmetic, which BigQuery accepts
-- for partition elimination) and returns the last 365, whose 30-day windows lie inside what it read
-- unless an asset misses more than 5 of those 35 days. A Looker Studio date range filters its output.
create or replace view {{dataset}}.v_daily_indicators as
with daily_close as (
  select
    f.snapshot_date,
    f.asset_key,
    f.vs_currency,
    any_value(f.coin_id) as coin_id,
    array_agg(f.current_price ignore nulls order by f.slot_ts desc limit 1)[safe_offset(0)] as close_price,
    array_agg(f.market_cap ignore nulls order by f.slot_ts desc limit 1)[safe_offset(0)] as close_market_cap
  from {{dataset}}.fact_market_snapshot as f
  where f.snapshot_date >= date_sub(current_date(), interval 400 day)
  group by f.snapshot_date, f.asset_key, f.vs_currency
),
with_previous as (
  select
    d.snapshot_date,
    d.asset_key,
    d.vs_currency,
    d.coin_id,
    d.close_price,
    d.close_market_cap,
    lag(d.close_price) over (partition by d.asset_key, d.vs_currency order by d.snapshot_date) as previous_close
  from daily_close as d
  where d.close_price is not null
),
indicators as (
  select
    p.snapshot_date,
    p.asset_key,
    p.vs_currency,
    p.coin_id,
    p.close_price,
    p.close_market_cap,
    case
      when p.close_price > 0 and p.previous_close > 0 then ln(p.close_price / p.previous_close)
    end as log_return
  from with_previous as p
),
windowed as (
  select
    i.snapshot_date,
    i.asset_key,
    i.vs_currency,
    i.coin_id,
    i.close_price,
    i.close_market_cap,
    i.log_return,
    avg(i.close_price) over (
      partition by i.asset_key, i.vs_currency order by i.snapshot_date rows between 6 preceding and current row
    ) as sma_7d,
    avg(i.close_price) over (
      partition by i.asset_key, i.vs_currency order by i.snapshot_date rows between 29 preceding and current row
    ) as sma_30d,
    stddev_samp(i.log_return) over (
      partition by i.asset_key, i.vs_currency order by i.snapshot_date rows between 29 preceding and current row
    ) as volatility_30d,
    count(*) over (
      partition by i.asset_key, i.vs_currency order by i.snapshot_date rows between 29 preceding and current row
    ) as close_days_30d
  from indicators as i
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
  w.snapshot_date,
  w.asset_key,
  w.coin_id,
  c.symbol,
  c.name,
  w.vs_currency,
  w.close_price,
  w.close_market_cap,
  w.log_return,
  w.sma_7d,
  w.sma_30d,
  w.volatility_30d,
  w.close_days_30d
from windowed as w
left join current_asset as c
  on c.asset_key = w.asset_key
where w.snapshot_date >= date_sub(current_date(), interval 365 day);
