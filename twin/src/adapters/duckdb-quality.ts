import { opsQualityCheck } from '../../../functions/src/schema/tables.js';

/**
 * The twin's data-quality statement: every check of functions/src/quality/checks.ts for one run,
 * measured and recorded in ONE statement inside the load's transaction (the per-load cost another
 * session benchmarks). It mirrors sql/quality/record_quality_checks.sql line for line, in DuckDB's
 * dialect; tests/sql/quality-checks-executed.test.ts runs both on the same batches and requires
 * identical rows, messages included.
 *
 * Scoped to the run: the fact rows are found by slot and run id (DuckDB's zone maps skip every
 * other slot's row groups), and the dimension lookups touch only this run's keys.
 *
 * Parameters: $run_id, $slot_ts, $expected_records, $records_in, $records_rejected,
 * $freshness_max_seconds, $checked_at. `onConflict` is empty on a first delivery (a clash then
 * means a redelivery: the whole load is retried conflict-tolerant) and `on conflict do nothing`
 * after, so a redelivered load never doubles the rows.
 */
export function recordQualityChecksSql(onConflict: string): string {
  const columns = opsQualityCheck.columns.map((c) => c.name).join(', ');
  return `
insert into ops_quality_check (${columns})
with setting as (
  -- Typed once: a bound JS number is a DOUBLE, and would print as 250.0 in a message.
  select
    cast($expected_records as bigint) as expected_records,
    cast($records_in as bigint) as records_in,
    cast($records_rejected as bigint) as records_rejected,
    cast($freshness_max_seconds as bigint) as freshness_max_seconds
),
run_fact as (
  select
    f.asset_key, f.date_key, f.coin_id, f.vs_currency, f.slot_ts, f.last_updated, f.current_price,
    f.ath, f.high_24h, f.low_24h, f.circulating_supply, f.total_supply
  from fact_market_snapshot as f
  where f.slot_ts = $slot_ts
    and f.run_id = $run_id
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
    from dim_asset as a
    where a.asset_key = r.asset_key
      and a.valid_from <= r.slot_ts
  )
),
date_orphan as (
  select r.date_key
  from run_fact as r
  where not exists (
    select 1
    from dim_date as d
    where d.date_key = r.date_key
  )
),
age as (
  select date_diff('millisecond', r.last_updated, r.slot_ts) / 1000 as age_seconds
  from run_fact as r
  where r.last_updated is not null
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
    (select median(a.age_seconds) from age as a) as median_age
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
      when m.median_age < 0 then concat('median last_updated ', cast(cast(round(-m.median_age) as bigint) as string),
        ' s after the slot start (bound ', cast(s.freshness_max_seconds as string), ' s)')
      else concat('median last_updated ', cast(cast(round(m.median_age) as bigint) as string),
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
  $run_id as run_id,
  c.check_name,
  c.severity,
  case when c.failed then 'fail' else 'pass' end as status,
  cast(c.observed as double) as observed,
  cast(c.expected as double) as expected,
  c.message,
  $checked_at as checked_at
from checked as c
order by c.check_name
${onConflict}
returning *`;
}
