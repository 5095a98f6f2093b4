-- The newest run record of the slot a run started at @triggered_at belongs to (or of a later
-- one): what cloud-check waits for after triggering the scheduler job. A slot is the scheduled
-- time floored to the cadence, so the run's slot lies within one cadence before the trigger.
select
  r.run_id,
  r.status,
  r.slot_ts,
  r.records_in,
  r.records_loaded,
  r.records_rejected,
  r.error_code,
  r.error_message,
  r.updated_at
from {{dataset}}.ops_run as r
where r.slot_ts > timestamp_sub(@triggered_at, interval @cadence_minutes minute)
order by r.slot_ts desc, r.updated_at desc
limit 1
