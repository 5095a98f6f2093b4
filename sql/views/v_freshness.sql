-- How current the warehouse is, per source and quote currency: the newest loaded slot and the
-- minutes since it. Read from the run records, not the fact, so it needs no partition filter and
-- stays cheap however long the history grows.
create or replace view {{dataset}}.v_freshness as
select
  r.source,
  r.vs_currency,
  max(r.slot_ts) as newest_slot_ts,
  max(r.load_finished_at) as newest_load_finished_at,
  timestamp_diff(current_timestamp(), max(r.slot_ts), minute) as minutes_since_newest_slot,
  count(*) as runs_loaded
from {{dataset}}.ops_run as r
where r.status = 'loaded'
group by r.source, r.vs_currency;
