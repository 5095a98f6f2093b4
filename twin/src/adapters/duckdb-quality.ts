import { opsQualityCheck } from '../../../functions/src/schema/tables.js';

/**
 * The twin's data-quality statement: every check of functions/src/quality/checks.ts for one run,
 * measured and recorded in ONE statement inside the load's transaction (the per-load cost another
 * session benchmarks). It is sql/quality/record_quality_checks.sql in DuckDB's dialect (an insert
 * instead of BigQuery's merge; the fact found by slot, which DuckDB's zone maps prune, instead of by
 * partition; the repeated grains and the median measured by aggregates where the BigQuery statement
 * uses analytic functions, which cost DuckDB a window over the run's rows every load);
 * tests/sql/quality-checks-executed.test.ts runs both on the same batches and requires identical
 * rows, messages included.
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
  select
    -- Typed once: a bound JS number is a DOUBLE, and would print as 250.0 in a message.
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
-- A version is in effect at a slot when the asset's first version starts at or before it.
asset_first_version as (
  select
    a.asset_key,
    min(a.valid_from) as first_valid_from
  from dim_asset as a
  where a.asset_key in (
    select r.asset_key
    from run_fact as r
  )
  group by a.asset_key
),
-- Each grain's rows beyond its first: BigQuery's row_number() window, as a group count (DuckDB
-- runs a window over the run's rows at several times the cost of a grouping).
grain as (
  select cast(sum(g.n - 1) as bigint) as grain_extra
  from (
    select count(*) as n
    from run_fact as r
    group by r.asset_key, r.vs_currency, r.slot_ts
  ) as g
),
counted as (
  select
    count(*) as fact_rows,
    countif(v.first_valid_from is null or v.first_valid_from > r.slot_ts) as asset_orphans,
    countif(d.date_key is null) as date_orphans,
    countif(
      r.asset_key is null or r.date_key is null or r.coin_id is null or r.vs_currency is null
      or r.slot_ts is null
    ) as null_keys,
    countif(coalesce(r.current_price > r.ath, false)) as above_ath,
    countif(coalesce(r.circulating_supply > r.total_supply, false)) as above_total_supply,
    countif(coalesce(r.current_price > r.high_24h or r.current_price < r.low_24h, false))
      as outside_range,
    -- The median as an aggregate: BigQuery's is analytic only (every row carries it), DuckDB's
    -- aggregate gives the same value without the window.
    quantile_cont(date_diff('millisecond', r.last_updated, r.slot_ts) / 1000, 0.5) as median_age
  from run_fact as r
  left join asset_first_version as v
    on v.asset_key = r.asset_key
  left join dim_date as d
    on d.date_key = r.date_key
),
-- One row whatever the run holds; every count of an empty run is null, this one too (no group).
measured as (
  select c.*, g.grain_extra
  from counted as c
  cross join grain as g
),
check_def as (
  -- A VALUES list where BigQuery has a union of selects: DuckDB plans it in about half the time
  -- (planning, not execution, is most of this statement's cost on a run of 250 rows).
  select v.check_name, v.severity
  from (
    values
      ('asset_dimension', 'error'),
      ('circulating_above_total_supply', 'warning'),
      ('date_dimension', 'error'),
      ('freshness', 'warning'),
      ('grain_unique', 'error'),
      ('keys_not_null', 'error'),
      ('price_above_ath', 'warning'),
      ('price_outside_24h_range', 'warning'),
      ('record_count', 'warning'),
      ('rejected_records', 'warning')
  ) as v(check_name, severity)
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
  $run_id as run_id,
  k.check_name,
  k.severity,
  case
    when k.check_name = 'record_count' and k.observed < k.expected then 'fail'
    when k.check_name <> 'record_count' and coalesce(k.observed > k.expected, false) then 'fail'
    else 'pass'
  end as status,
  cast(k.observed as double) as observed,
  cast(k.expected as double) as expected,
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
          concat('median last_updated ', cast(cast(round(-k.median_age) as bigint) as string),
            ' s after the slot start (bound ', cast(k.freshness_max_seconds as string), ' s)')
        else
          concat('median last_updated ', cast(cast(round(k.median_age) as bigint) as string),
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
  $checked_at as checked_at
from checked as k
${onConflict}
returning *`;
}
