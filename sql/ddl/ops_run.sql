-- Generated from functions/src/schema/tables.ts by `npx tsx scripts/generate-ddl.ts`; do not edit.
-- Pulumi creates the tables from the same source; this DDL is for bootstrapping by hand and for
-- the ZetaSQL check that the schema is valid BigQuery.
create table if not exists {{dataset}}.ops_run (
  run_id             string not null    options (description = 'Run id: source, currency and slot.'),
  source             string not null    options (description = 'Market data source.'),
  vs_currency        string not null    options (description = 'Quote currency.'),
  slot_ts            timestamp not null options (description = 'Slot of the run.'),
  status             string not null    options (description = 'loaded | failed.'),
  raw_object         string             options (description = 'Lake object of the raw response or of the failed attempt.'),
  raw_generation     string             options (description = 'Generation of that object.'),
  records_in         int64              options (description = 'Records in the raw response.'),
  records_loaded     int64              options (description = 'Fact rows this run wrote.'),
  records_rejected   int64              options (description = 'Records rejected (invalid or duplicated), see ops_rejected_record.'),
  records_duplicate  int64              options (description = 'Of the rejected, duplicated coin ids within the snapshot.'),
  asset_versions_new int64              options (description = 'dim_asset versions this run created.'),
  load_started_at    timestamp          options (description = 'When the load began.'),
  load_finished_at   timestamp          options (description = 'When the load finished.'),
  error_code         string             options (description = 'Error code of a failed run.'),
  error_message      string             options (description = 'Error message of a failed run.'),
  updated_at         timestamp not null options (description = 'Last change of this row.')
)
options (
  description = 'One row per run: status, counts and timings. Failed runs are recorded with their error.'
);
