-- Applies one run to the star schema, all or nothing: BigQuery's twin of the DuckDB warehouse's
-- loadBatch. The four staging tables hold this run only; a load job filled each with the schema of
-- the table it feeds. Every statement is idempotent, so a redelivered run inserts nothing and
-- leaves its loaded run record untouched. Values arrive as named query parameters only.
-- An error in any statement ends the script, and BigQuery rolls the open transaction back.
-- The caller reads the last statement's result: fact_rows_inserted, asset_versions_inserted.

-- Script variables must be declared before any other statement.
declare asset_versions_inserted int64 default 0;
declare fact_rows_inserted int64 default 0;

begin transaction;

-- Calendar rows the run's facts reference and the dimension does not have yet.
insert into {{dataset}}.dim_date (
  date_key, date, year, quarter, month, month_name, day_of_month, day_of_week, day_name, iso_year,
  iso_week, is_weekend
)
select
  s.date_key, s.date, s.year, s.quarter, s.month, s.month_name, s.day_of_month, s.day_of_week,
  s.day_name, s.iso_year, s.iso_week, s.is_weekend
from {{dataset}}.{{staging_date}} as s
where not exists (
  select 1
  from {{dataset}}.dim_date as d
  where d.date_key = s.date_key
);

-- Type 2 history, insert-only: a candidate (one per asset, valid from the slot) becomes a version
-- unless that exact version exists, or the version in effect at its valid_from (the asset's
-- latest version starting at or before it) already has the same attributes. Comparing with the
-- version in effect, not the newest one, keeps history right when runs arrive out of order.
insert into {{dataset}}.dim_asset (
  asset_version_key, asset_key, coin_id, symbol, name, image_url, attributes_hash, valid_from, run_id,
  loaded_at
)
with candidate as (
  select
    s.asset_version_key, s.asset_key, s.coin_id, s.symbol, s.name, s.image_url, s.attributes_hash,
    s.valid_from, s.run_id, s.loaded_at
  from {{dataset}}.{{staging_asset}} as s
),
version_in_effect as (
  select
    c.asset_key,
    c.valid_from,
    d.valid_from as in_effect_from,
    d.attributes_hash
  from candidate as c
  join {{dataset}}.dim_asset as d
    on d.asset_key = c.asset_key
    and d.valid_from <= c.valid_from
  qualify row_number() over (partition by c.asset_key, c.valid_from order by d.valid_from desc) = 1
)
select
  c.asset_version_key, c.asset_key, c.coin_id, c.symbol, c.name, c.image_url, c.attributes_hash,
  c.valid_from, c.run_id, c.loaded_at
from candidate as c
left join version_in_effect as v
  on v.asset_key = c.asset_key
  and v.valid_from = c.valid_from
where v.asset_key is null
  or (v.in_effect_from <> c.valid_from and v.attributes_hash <> c.attributes_hash);

set asset_versions_inserted = @@row_count;

-- The fact, insert-only on its grain. No update clause: a MERGE that can update is billed for the
-- whole table. The constant filter on the partitioning column prunes the target to the run's day
-- (every row of a run shares the slot, so its date is @snapshot_date) and satisfies
-- require_partition_filter. Explicit column lists, not `insert row`: a live table gets new columns
-- appended at the end, so matching by position could pair the wrong columns after a schema change.
merge {{dataset}}.fact_market_snapshot as t
using {{dataset}}.{{staging_fact}} as s
on t.snapshot_date = @snapshot_date
  and t.asset_key = s.asset_key
  and t.vs_currency = s.vs_currency
  and t.slot_ts = s.slot_ts
when not matched then
  insert (
    snapshot_date, date_key, asset_key, coin_id, vs_currency, slot_ts, last_updated, market_cap_rank,
    current_price, market_cap, fully_diluted_valuation, total_volume, high_24h, low_24h,
    price_change_24h, price_change_percentage_24h, market_cap_change_24h,
    market_cap_change_percentage_24h, circulating_supply, total_supply, max_supply, ath,
    ath_change_percentage, atl, atl_change_percentage, ath_date, atl_date, roi_times, roi_currency,
    roi_percentage, run_id, loaded_at
  )
  values (
    s.snapshot_date, s.date_key, s.asset_key, s.coin_id, s.vs_currency, s.slot_ts, s.last_updated,
    s.market_cap_rank, s.current_price, s.market_cap, s.fully_diluted_valuation, s.total_volume,
    s.high_24h, s.low_24h, s.price_change_24h, s.price_change_percentage_24h, s.market_cap_change_24h,
    s.market_cap_change_percentage_24h, s.circulating_supply, s.total_supply, s.max_supply, s.ath,
    s.ath_change_percentage, s.atl, s.atl_change_percentage, s.ath_date, s.atl_date, s.roi_times,
    s.roi_currency, s.roi_percentage, s.run_id, s.loaded_at
  );

set fact_rows_inserted = @@row_count;

-- Rejected records are kept once per (run, position in the response).
insert into {{dataset}}.ops_rejected_record (
  run_id, slot_ts, record_index, coin_id, reason, raw_record, rejected_at
)
select
  s.run_id, s.slot_ts, s.record_index, s.coin_id, s.reason, s.raw_record, s.rejected_at
from {{dataset}}.{{staging_rejected}} as s
where not exists (
  select 1
  from {{dataset}}.ops_rejected_record as r
  where r.run_id = s.run_id
    and r.record_index = s.record_index
);

-- The run record: created as loaded, or a failed earlier attempt turned into loaded (its error
-- cleared). A run that is already loaded is left as it is: a redelivery changes nothing.
merge {{dataset}}.ops_run as t
using (
  select
    @run_id as run_id,
    @source as source,
    @vs_currency as vs_currency,
    @slot_ts as slot_ts,
    @raw_object as raw_object,
    @raw_generation as raw_generation,
    @records_in as records_in,
    fact_rows_inserted as records_loaded,
    @records_rejected as records_rejected,
    @records_duplicate as records_duplicate,
    asset_versions_inserted as asset_versions_new,
    @load_started_at as load_started_at,
    current_timestamp() as load_finished_at
) as s
on t.run_id = s.run_id
when not matched then
  insert (
    run_id, source, vs_currency, slot_ts, status, raw_object, raw_generation, records_in,
    records_loaded, records_rejected, records_duplicate, asset_versions_new, load_started_at,
    load_finished_at, error_code, error_message, updated_at
  )
  values (
    s.run_id, s.source, s.vs_currency, s.slot_ts, 'loaded', s.raw_object, s.raw_generation,
    s.records_in, s.records_loaded, s.records_rejected, s.records_duplicate, s.asset_versions_new,
    s.load_started_at, s.load_finished_at, null, null, s.load_finished_at
  )
when matched and t.status <> 'loaded' then
  update set
    status = 'loaded',
    raw_object = s.raw_object,
    raw_generation = s.raw_generation,
    records_in = s.records_in,
    records_loaded = s.records_loaded,
    records_rejected = s.records_rejected,
    records_duplicate = s.records_duplicate,
    asset_versions_new = s.asset_versions_new,
    load_started_at = s.load_started_at,
    load_finished_at = s.load_finished_at,
    error_code = null,
    error_message = null,
    updated_at = s.load_finished_at;

commit transaction;

select
  fact_rows_inserted,
  asset_versions_inserted;
