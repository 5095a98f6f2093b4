-- Generated from functions/src/schema/tables.ts by `npx tsx scripts/generate-ddl.ts`; do not edit.
-- Pulumi creates the tables from the same source; this DDL is for bootstrapping by hand and for
-- the ZetaSQL check that the schema is valid BigQuery.
create table if not exists {{dataset}}.ops_rejected_record (
  run_id       string not null    options (description = 'Run the record came from.'),
  slot_ts      timestamp not null options (description = 'Slot of the run.'),
  record_index int64 not null     options (description = 'Position of the record in the response (0-based across pages).'),
  coin_id      string             options (description = 'The id, when the record had one.'),
  reason       string not null    options (description = 'Why it was rejected.'),
  raw_record   string not null    options (description = 'The record as JSON.'),
  rejected_at  timestamp not null options (description = 'When it was rejected.')
)
options (
  description = 'Every record a run did not load, with the reason; the raw record is kept verbatim.'
);
