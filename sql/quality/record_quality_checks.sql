-- The data-quality checks of one run (functions/src/quality/checks.ts), measured and recorded in
-- one statement right after sql/load/merge_run.sql committed the run; then the run's check rows
-- for the caller to log. The twin runs the same checks in DuckDB's dialect
-- (twin/src/adapters/duckdb-quality.ts); tests/sql/quality-checks-executed.test.ts runs both on
-- the same batches and requires identical rows, messages included.
-- Cheap by construction: the fact is read once, in the run's partition only (a constant filter on
-- snapshot_date, which require_partition_filter demands anyway), the dimensions for its keys only,
-- and every measure comes from one aggregate row that the checks share (check_def is constants).
-- Idempotent: a check already recorded for the run is left as it is (merge on run_id, check_name).
-- A job of its own, so it can fail after the merge committed: the run is then loaded without its
-- checks, the redelivery finds none (sql/quality/get_quality_checks.sql) and this runs again.

merge {{dataset}}.ops_quality_check as t
using (
  with setting as (
    select
      @expected_records as expected_records,
      @records_in as records_in,
      @records_rejected as records_rejected,
      @freshness_max_seconds as freshness_max_seconds
  ),
  run_fact as (
    select
      f.asset_key, f.date_key, f.coin_id, f.vs_currency, f.slot_ts, f.last_updated, f.current_price,
      f.ath, f.high_24h, f.low_24h, f.circulating_supply, f.total_supply
    from {{dataset}}.fact_market_snapshot as f
    where f.snapshot_date = @snapshot_date
      and f.run_id = @run_id
  ),
  -- A version is in effect at a slot when the asset's first version starts at or before it.
  asset_first_version as (
    select
      a.asset_key,
      min(a.valid_from) as first_valid_from
    from {{dataset}}.dim_asset as a
    where a.asset_key in (
      select r.asset_key
      from run_fact as r
    )
    group by a.asset_key
  ),
  annotated as (
    select
      r.*,
      row_number() over (partition by r.asset_key, r.vs_currency, r.slot_ts) as grain_position,
      v.first_valid_from,
      d.date_key as dim_date_key,
      -- BigQuery's exact median is analytic only: every row carries it.
      percentile_cont(timestamp_diff(r.slot_ts, r.last_updated, millisecond) / 1000, 0.5) over ()
        as median_age
    from run_fact as r
    left join asset_first_version as v
      on v.asset_key = r.asset_key
    left join {{dataset}}.dim_date as d
      on d.date_key = r.date_key
  ),
  measured as (
    select
      count(*) as fact_rows,
      countif(n.grain_position > 1) as grain_extra,
      countif(n.first_valid_from is null or n.first_valid_from > n.slot_ts) as asset_orphans,
      countif(n.dim_date_key is null) as date_orphans,
      countif(
        n.asset_key is null or n.date_key is null or n.coin_id is null or n.vs_currency is null
        or n.slot_ts is null
      ) as null_keys,
      countif(coalesce(n.current_price > n.ath, false)) as above_ath,
      countif(coalesce(n.circulating_supply > n.total_supply, false)) as above_total_supply,
      countif(coalesce(n.current_price > n.high_24h or n.current_price < n.low_24h, false))
        as outside_range,
      max(n.median_age) as median_age
    from annotated as n
  ),
  check_def as (
    select 'asset_dimension' as check_name, 'error' as severity
    union all select 'circulating_above_total_supply', 'warning'
    union all select 'date_dimension', 'error'
    union all select 'freshness', 'warning'
    union all select 'grain_unique', 'error'
    union all select 'keys_not_null', 'error'
    union all select 'price_above_ath', 'warning'
    union all select 'price_outside_24h_range', 'warning'
    union all select 'record_count', 'warning'
    union all select 'rejected_records', 'warning'
  ),
  checked as (
    select
      c.check_name,
      c.severity,
      case c.check_name
        when 'asset_dimension' then m.asset_orphans
        when 'circulating_above_total_supply' then m.above_total_supply
        when 'date_dimension' then m.date_orphans
        when 'freshness' then m.median_age
        when 'grain_unique' then m.grain_extra
        when 'keys_not_null' then m.null_keys
        when 'price_above_ath' then m.above_ath
        when 'price_outside_24h_range' then m.outside_range
        when 'record_count' then m.fact_rows
        when 'rejected_records' then s.records_rejected
      end as observed,
      case c.check_name
        when 'freshness' then s.freshness_max_seconds
        when 'record_count' then s.expected_records
        else 0
      end as expected,
      m.*,
      s.*
    from check_def as c
    cross join measured as m
    cross join setting as s
  )
  select
    @run_id as run_id,
    k.check_name,
    k.severity,
    case
      when k.check_name = 'record_count' and k.observed < k.expected then 'fail'
      when k.check_name <> 'record_count' and coalesce(k.observed > k.expected, false) then 'fail'
      else 'pass'
    end as status,
    cast(k.observed as float64) as observed,
    cast(k.expected as float64) as expected,
    case k.check_name
      when 'asset_dimension' then
        concat(cast(k.asset_orphans as string), ' fact row(s) without a dim_asset version in effect at their slot')
      when 'circulating_above_total_supply' then
        concat(cast(k.above_total_supply as string), ' of ', cast(k.fact_rows as string),
          ' coin(s) with a circulating supply above the total supply')
      when 'date_dimension' then
        concat(cast(k.date_orphans as string), ' fact row(s) whose date_key is missing from dim_date')
      when 'freshness' then
        case
          when k.median_age is null then 'no last_updated to measure'
          when k.median_age < 0 then
            concat('median last_updated ', cast(cast(round(-k.median_age) as int64) as string),
              ' s after the slot start (bound ', cast(k.freshness_max_seconds as string), ' s)')
          else
            concat('median last_updated ', cast(cast(round(k.median_age) as int64) as string),
              ' s before the slot (bound ', cast(k.freshness_max_seconds as string), ' s)')
        end
      when 'grain_unique' then
        concat(cast(k.grain_extra as string), ' fact row(s) repeat an asset, currency and slot')
      when 'keys_not_null' then concat(cast(k.null_keys as string), ' fact row(s) with a null key')
      when 'price_above_ath' then
        concat(cast(k.above_ath as string), ' of ', cast(k.fact_rows as string),
          ' coin(s) priced above their all-time high')
      when 'price_outside_24h_range' then
        concat(cast(k.outside_range as string), ' of ', cast(k.fact_rows as string),
          ' coin(s) priced outside their 24h low-high range')
      when 'record_count' then
        case
          when k.records_in = 0 then
            concat('empty response ([]): no coins, ', cast(k.expected_records as string), ' expected')
          else
            concat(cast(k.fact_rows as string), ' of ', cast(k.expected_records as string), ' expected coin(s) loaded')
        end
      when 'rejected_records' then
        concat(cast(k.records_rejected as string), ' of ', cast(k.records_in as string),
          ' record(s) rejected (see ops_rejected_record)')
    end as message,
    current_timestamp() as checked_at
  from checked as k
) as s
on t.run_id = s.run_id
  and t.check_name = s.check_name
when not matched then
  insert (run_id, check_name, severity, status, observed, expected, message, checked_at)
  values (s.run_id, s.check_name, s.severity, s.status, s.observed, s.expected, s.message, s.checked_at);

-- The run's checks as stored: this delivery's, or those an earlier delivery recorded.
select
  q.run_id, q.check_name, q.severity, q.status, q.observed, q.expected, q.message, q.checked_at
from {{dataset}}.ops_quality_check as q
where q.run_id = @run_id
order by q.check_name;
