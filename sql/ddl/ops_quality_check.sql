-- Generated from functions/src/schema/tables.ts by `npx tsx scripts/generate-ddl.ts`; do not edit.
-- Pulumi creates the tables from the same source; this DDL is for bootstrapping by hand and for
-- the ZetaSQL check that the schema is valid BigQuery.
create table if not exists {{dataset}}.ops_quality_check (
  run_id     string not null    options (description = 'Run the check looked at.'),
  check_name string not null    options (description = 'Which check (grain_unique, record_count, price_above_ath, ...).'),
  severity   string not null    options (description = 'error (integrity broken) | warning (suspicious data).'),
  status     string not null    options (description = 'pass | fail.'),
  observed   float64            options (description = 'What the check measured (a row count, a median age in seconds).'),
  expected   float64            options (description = 'The bound it was held to.'),
  message    string not null    options (description = 'What was found, in words.'),
  checked_at timestamp not null options (description = 'When the check ran.')
)
cluster by run_id
options (
  description = 'Data-quality assertions checked after each load, scoped to the run (functions/src/quality/checks.ts): one row per run and check.'
);
