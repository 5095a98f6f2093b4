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

-- Type 2 history, the same whatever the order in which runs are loaded: the dimension must equal
-- what loading every snapshot in slot order gives (a version starts at each observed slot whose
-- attributes differ from the previous observed slot's). Pub/Sub delivers out of order, so a
-- candidate (one per asset, valid from the slot T) can be older than versions already there. With
-- the version in effect at T (the latest starting at or before T), the next version, and the
-- asset's next observed slot S after T (its next fact row; this run's facts are not merged yet):
-- - in effect with the same attributes, or starting at T (a redelivery): nothing is added;
-- - otherwise a version opens at T, and when S comes before the next version, S still has the
--   attributes of the version in effect, which resumes at S (the version is split). That row is
--   the one loading S in order would have written: its key hashes coin id and S as assetVersionKey
--   does in TypeScript (sha256 of the parts joined by U+001F, top 53 bits of the first 64, that is
--   the first 14 hex digits shifted right by 3), its run and load time are S's fact row's.
-- The partition filter on the fact is constant: S is at or after T, so on or after the run's date.
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
    d.valid_from as in_effect_from,
    d.symbol,
    d.name,
    d.image_url,
    d.attributes_hash
  from candidate as c
  join {{dataset}}.dim_asset as d
    on d.asset_key = c.asset_key
    and d.valid_from <= c.valid_from
  qualify row_number() over (partition by c.asset_key order by d.valid_from desc) = 1
),
next_version as (
  select
    c.asset_key,
    min(d.valid_from) as next_from
  from candidate as c
  join {{dataset}}.dim_asset as d
    on d.asset_key = c.asset_key
    and d.valid_from > c.valid_from
  group by c.asset_key
),
next_snapshot as (
  select
    c.asset_key,
    f.slot_ts,
    f.run_id,
    f.loaded_at
  from candidate as c
  join {{dataset}}.fact_market_snapshot as f
    on f.asset_key = c.asset_key
    and f.slot_ts > c.valid_from
  where f.snapshot_date >= @snapshot_date
  qualify row_number() over (partition by c.asset_key order by f.slot_ts, f.run_id) = 1
),
opening as (
  select
    c.asset_version_key, c.asset_key, c.coin_id, c.symbol, c.name, c.image_url, c.attributes_hash,
    c.valid_from, c.run_id, c.loaded_at
  from candidate as c
  left join version_in_effect as v
    on v.asset_key = c.asset_key
  where v.asset_key is null
    or (v.in_effect_from <> c.valid_from and v.attributes_hash <> c.attributes_hash)
)
select
  o.asset_version_key, o.asset_key, o.coin_id, o.symbol, o.name, o.image_url, o.attributes_hash,
  o.valid_from, o.run_id, o.loaded_at
from opening as o
union all
select
  cast(
    concat(
      '0x',
      substr(
        to_hex(
          sha256(
            concat(
              'asset_version', code_points_to_string([31]), o.coin_id, code_points_to_string([31]),
              format_timestamp('%Y-%m-%dT%H:%M:%E3SZ', n.slot_ts, 'UTC')
            )
          )
        ),
        1,
        14
      )
    ) as int64
  ) >> 3 as asset_version_key,
  o.asset_key, o.coin_id, v.symbol, v.name, v.image_url, v.attributes_hash, n.slot_ts as valid_from,
  n.run_id, n.loaded_at
from opening as o
join version_in_effect as v
  on v.asset_key = o.asset_key
join next_snapshot as n
  on n.asset_key = o.asset_key
left join next_version as x
  on x.asset_key = o.asset_key
where x.next_from is null or n.slot_ts < x.next_from;

set asset_versions_inserted = @@row_count;

-- A version whose predecessor has the same attributes adds nothing: when a late snapshot opened a
-- version just before the next version with its attributes, that next version now starts at the
-- late slot. Removing it does that (and heals redundant versions an older rule left behind).
-- Limited to the run's assets; dim_asset is small and unpartitioned, so this costs little.
merge {{dataset}}.dim_asset as t
using (
  select
    h.asset_key,
    h.valid_from
  from (
    select
      a.asset_key,
      a.valid_from,
      a.attributes_hash,
      lag(a.attributes_hash) over (partition by a.asset_key order by a.valid_from) as previous_hash
    from {{dataset}}.dim_asset as a
    where a.asset_key in (
      select s.asset_key
      from {{dataset}}.{{staging_asset}} as s
    )
  ) as h
  where h.previous_hash = h.attributes_hash
) as r
on t.asset_key = r.asset_key
  and t.valid_from = r.valid_from
when matched then
  delete;

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
