-- The data-quality checks of one run (functions/src/quality/checks.ts), measured and recorded in
-- one statement right after sql/load/merge_run.sql committed the run; then the run's check rows
-- for the caller to log. The twin runs the same checks in DuckDB's dialect
-- (twin/src/adapters/duckdb-quality.ts); tests/sql/quality-checks-executed.test.ts runs both on
-- the same batches and requires identical rows, messages included.
-- Cheap by construction: the fact is read in the run's partition only (a constant filter on
-- snapshot_date, which require_partition_filter demands anyway), the dimensions for its keys only.
-- Idempotent: a check already recorded for the run is left as it is (merge on run_id, check_name).

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
  grain_repeat as (
    select
      r.asset_key,
      r.vs_currency,
      r.slot_ts,
      count(*) - 1 as extra_rows
    from run_fact as r
    group by r.asset_key, r.vs_currency, r.slot_ts
    having count(*) > 1
  ),
  asset_orphan as (
    select r.asset_key
    from run_fact as r
    where not exists (
      select 1
      from {{dataset}}.dim_asset as a
      where a.asset_key = r.asset_key
        and a.valid_from <= r.slot_ts
    )
  ),
  date_orphan as (
    select r.date_key
    from run_fact as r
    where not exists (
      select 1
      from {{dataset}}.dim_date as d
      where d.date_key = r.date_key
    )
  ),
  age as (
    select timestamp_diff(r.slot_ts, r.last_updated, millisecond) / 1000 as age_seconds
    from run_fact as r
    where r.last_updated is not null
  ),
  -- BigQuery's exact median is analytic only: every row carries it, any one will do.
  median_age as (
    select max(a.median_age) as median_age
    from (
      select percentile_cont(g.age_seconds, 0.5) over () as median_age
      from age as g
    ) as a
  ),
  measured as (
    select
      (select count(*) from run_fact) as fact_rows,
      (select coalesce(sum(g.extra_rows), 0) from grain_repeat as g) as grain_extra,
      (select count(*) from asset_orphan) as asset_orphans,
      (select count(*) from date_orphan) as date_orphans,
      (select countif(
         r.asset_key is null or r.date_key is null or r.coin_id is null or r.vs_currency is null
         or r.slot_ts is null
       ) from run_fact as r) as null_keys,
      (select countif(coalesce(r.current_price > r.ath, false)) from run_fact as r) as above_ath,
      (select countif(coalesce(r.circulating_supply > r.total_supply, false)) from run_fact as r) as above_total_supply,
      (select countif(coalesce(r.current_price > r.high_24h or r.current_price < r.low_24h, false))
       from run_fact as r)
        as outside_range,
      (select m.median_age from median_age as m) as median_age
  ),
  checked as (
    select 'asset_dimension' as check_name, 'error' as severity, m.asset_orphans as observed, 0 as expected,
      m.asset_orphans > 0 as failed,
      concat(cast(m.asset_orphans as string), ' fact row(s) without a dim_asset version in effect at their slot')
        as message
    from measured as m
    cross join setting as s
    union all
    select 'circulating_above_total_supply', 'warning', m.above_total_supply, 0, m.above_total_supply > 0,
      concat(cast(m.above_total_supply as string), ' of ', cast(m.fact_rows as string),
        ' coin(s) with a circulating supply above the total supply')
    from measured as m
    cross join setting as s
    union all
    select 'date_dimension', 'error', m.date_orphans, 0, m.date_orphans > 0,
      concat(cast(m.date_orphans as string), ' fact row(s) whose date_key is missing from dim_date')
    from measured as m
    cross join setting as s
    union all
    select 'freshness', 'warning', m.median_age, s.freshness_max_seconds,
      coalesce(m.median_age > s.freshness_max_seconds, false),
      case
        when m.median_age is null then 'no last_updated to measure'
        when m.median_age < 0 then concat('median last_updated ', cast(cast(round(-m.median_age) as int64) as string),
          ' s after the slot start (bound ', cast(s.freshness_max_seconds as string), ' s)')
        else concat('median last_updated ', cast(cast(round(m.median_age) as int64) as string),
          ' s before the slot (bound ', cast(s.freshness_max_seconds as string), ' s)')
      end
    from measured as m
    cross join setting as s
    union all
    select 'grain_unique', 'error', m.grain_extra, 0, m.grain_extra > 0,
      concat(cast(m.grain_extra as string), ' fact row(s) repeat an asset, currency and slot')
    from measured as m
    cross join setting as s
    union all
    select 'keys_not_null', 'error', m.null_keys, 0, m.null_keys > 0,
      concat(cast(m.null_keys as string), ' fact row(s) with a null key')
    from measured as m
    cross join setting as s
    union all
    select 'price_above_ath', 'warning', m.above_ath, 0, m.above_ath > 0,
      concat(cast(m.above_ath as string), ' of ', cast(m.fact_rows as string),
        ' coin(s) priced above their all-time high')
    from measured as m
    cross join setting as s
    union all
    select 'price_outside_24h_range', 'warning', m.outside_range, 0, m.outside_range > 0,
      concat(cast(m.outside_range as string), ' of ', cast(m.fact_rows as string),
        ' coin(s) priced outside their 24h low-high range')
    from measured as m
    cross join setting as s
    union all
    select 'record_count', 'warning', m.fact_rows, s.expected_records, m.fact_rows < s.expected_records,
      case
        when s.records_in = 0 then concat('empty response ([]): no coins, ', cast(s.expected_records as string),
          ' expected')
        else concat(cast(m.fact_rows as string), ' of ', cast(s.expected_records as string),
          ' expected coin(s) loaded')
      end
    from measured as m
    cross join setting as s
    union all
    select 'rejected_records', 'warning', s.records_rejected, 0, s.records_rejected > 0,
      concat(cast(s.records_rejected as string), ' of ', cast(s.records_in as string),
        ' record(s) rejected (see ops_rejected_record)')
    from measured as m
    cross join setting as s
  )
  select
    @run_id as run_id,
    c.check_name,
    c.severity,
    case when c.failed then 'fail' else 'pass' end as status,
    cast(c.observed as float64) as observed,
    cast(c.expected as float64) as expected,
    c.message,
    current_timestamp() as checked_at
  from checked as c
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
