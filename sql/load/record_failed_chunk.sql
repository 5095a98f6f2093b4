-- Records a failed backfill chunk (an error answer such as CoinGecko 10012, or a body that is not a
-- market_chart answer): creates the chunk record as failed, or updates an earlier failure. A chunk
-- already loaded is never touched.
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
    @error_code as error_code,
    @error_message as error_message,
    current_timestamp() as updated_at
) as s
on t.chunk_id = s.chunk_id
when not matched then
  insert (
    chunk_id, coin_id, vs_currency, granularity, range_from, range_to, status, raw_object,
    raw_generation, error_code, error_message, updated_at
  )
  values (
    s.chunk_id, s.coin_id, s.vs_currency, s.granularity, s.range_from, s.range_to, 'failed',
    s.raw_object, s.raw_generation, s.error_code, s.error_message, s.updated_at
  )
when matched and t.status <> 'loaded' then
  update set
    status = 'failed',
    raw_object = s.raw_object,
    raw_generation = s.raw_generation,
    error_code = s.error_code,
    error_message = s.error_message,
    updated_at = s.updated_at;
