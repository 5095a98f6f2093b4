-- One row per run for the operations dashboard: status, counts, timings and the error of a failed
-- run. Lags are measured from the slot (the scheduled time), so they include extraction and
-- delivery, which is what a reader of the dashboard waits for.
create or replace view {{dataset}}.v_run_health as
select
  r.run_id,
  r.source,
  r.vs_currency,
  r.slot_ts,
  date(r.slot_ts) as slot_date,
  r.status,
  r.status = 'loaded' as is_loaded,
  r.records_in,
  r.records_loaded,
  r.records_rejected,
  r.records_duplicate,
  r.asset_versions_new,
  r.load_started_at,
  r.load_finished_at,
  timestamp_diff(r.load_started_at, r.slot_ts, second) as start_lag_seconds,
  timestamp_diff(r.load_finished_at, r.slot_ts, second) as lag_seconds,
  timestamp_diff(r.load_finished_at, r.load_started_at, millisecond) as load_duration_ms,
  r.error_code,
  r.error_message,
  r.updated_at
from {{dataset}}.ops_run as r;
