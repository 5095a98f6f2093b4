-- The record of one backfill chunk, or no row when the chunk is unknown.
select
  c.chunk_id,
  c.coin_id,
  c.vs_currency,
  c.granularity,
  c.range_from,
  c.range_to,
  c.status,
  c.raw_object,
  c.raw_generation,
  c.points_in,
  c.points_loaded,
  c.points_rejected,
  c.error_code,
  c.error_message,
  c.updated_at
from {{dataset}}.ops_backfill_chunk as c
where c.chunk_id = @chunk_id;
