-- Records a failed attempt at a run: creates the run record as failed, or updates an earlier
-- failed attempt with this error. A run that is already loaded is never touched, so a late or
-- duplicated failure cannot hide a successful load. Values arrive as named query parameters only.
merge {{dataset}}.ops_run as t
using (
  select
    @run_id as run_id,
    @source as source,
    @vs_currency as vs_currency,
    @slot_ts as slot_ts,
    @raw_object as raw_object,
    @raw_generation as raw_generation,
    @error_code as error_code,
    @error_message as error_message,
    current_timestamp() as updated_at
) as s
on t.run_id = s.run_id
when not matched then
  insert (
    run_id, source, vs_currency, slot_ts, status, raw_object, raw_generation, error_code,
    error_message, updated_at
  )
  values (
    s.run_id, s.source, s.vs_currency, s.slot_ts, 'failed', s.raw_object, s.raw_generation,
    s.error_code, s.error_message, s.updated_at
  )
when matched and t.status <> 'loaded' then
  update set
    status = 'failed',
    raw_object = s.raw_object,
    raw_generation = s.raw_generation,
    error_code = s.error_code,
    error_message = s.error_message,
    updated_at = s.updated_at;
