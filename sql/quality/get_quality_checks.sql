-- The data-quality checks recorded for one run (none when the run has not been checked): the
-- load's fast path takes a run as loaded only with them, since sql/quality/record_quality_checks.sql
-- runs as a job of its own after sql/load/merge_run.sql committed, and can fail after it.
select
  q.run_id, q.check_name, q.severity, q.status, q.observed, q.expected, q.message, q.checked_at
from {{dataset}}.ops_quality_check as q
where q.run_id = @run_id
order by q.check_name;
