-- Applies one backfill chunk (one market_chart/range answer) to fact_price_history, all or
-- nothing: BigQuery's twin of the DuckDB warehouse's loadHistoryChunk. The staging tables hold this
-- chunk only. Insert-only on the fact's grain (asset, currency, granularity, ts), so a redelivered
-- chunk, or another chunk whose range overlaps this one, never doubles a point.
-- The caller reads the last statement's result: points_inserted.

declare points_inserted int64 default 0;

begin transaction;

-- Calendar rows the chunk's points reference and the dimension does not have yet.
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

-- The points, insert-only. The constant range on the partitioning column prunes the target to the
-- chunk's days and satisfies require_partition_filter.
merge {{dataset}}.fact_price_history as t
using {{dataset}}.{{staging_history}} as s
on t.history_date between @first_date and @last_date
  and t.asset_key = s.asset_key
  and t.vs_currency = s.vs_currency
  and t.granularity = s.granularity
  and t.ts = s.ts
when not matched then
  insert (
    history_date, date_key, asset_key, coin_id, vs_currency, granularity, ts, source_ts, price,
    market_cap, total_volume, chunk_id, loaded_at
  )
  values (
    s.history_date, s.date_key, s.asset_key, s.coin_id, s.vs_currency, s.granularity, s.ts,
    s.source_ts, s.price, s.market_cap, s.total_volume, s.chunk_id, s.loaded_at
  );

set points_inserted = @@row_count;

-- The chunk record: created as loaded, or a failed earlier attempt turned into loaded. A chunk
-- already loaded is left as it is.
merge {{dataset}}.ops_backfill_chunk as t
using (
  select
    @chunk_id as chunk_id,
    @coin_id as coin_id,
    @vs_currency as vs_currency,
    @granularity as granularity,
    @range_from as range_from,
    @range_to as range_to,
    @raw_object as raw_object,
    @raw_generation as raw_generation,
    @points_in as points_in,
    points_inserted as points_loaded,
    @points_rejected as points_rejected,
    current_timestamp() as updated_at
) as s
on t.chunk_id = s.chunk_id
when not matched then
  insert (
    chunk_id, coin_id, vs_currency, granularity, range_from, range_to, status, raw_object,
    raw_generation, points_in, points_loaded, points_rejected, error_code, error_message, updated_at
  )
  values (
    s.chunk_id, s.coin_id, s.vs_currency, s.granularity, s.range_from, s.range_to, 'loaded',
    s.raw_object, s.raw_generation, s.points_in, s.points_loaded, s.points_rejected, null, null,
    s.updated_at
  )
when matched and t.status <> 'loaded' then
  update set
    status = 'loaded',
    raw_object = s.raw_object,
    raw_generation = s.raw_generation,
    points_in = s.points_in,
    points_loaded = s.points_loaded,
    points_rejected = s.points_rejected,
    error_code = null,
    error_message = null,
    updated_at = s.updated_at;

commit transaction;

select points_inserted;
