-- The run record of one run, or no row when the run is unknown.
select
  r.run_id,
  r.source,
  r.vs_currency,
  r.slot_ts,
  r.status,
  r.raw_object,
  r.raw_generation,
  r.records_in,
  r.records_loaded,
  r.records_rejected,
  r.records_duplicate,
  r.asset_versions_new,
  r.load_started_at,
  r.load_finished_at,
  r.error_code,
  r.error_message,
  r.updated_at
from {{dataset}}.ops_run as r
where r.run_id = @run_id;
