-- Generated from functions/src/schema/tables.ts by `npx tsx scripts/generate-ddl.ts`; do not edit.
-- Pulumi creates the tables from the same source; this DDL is for bootstrapping by hand and for
-- the ZetaSQL check that the schema is valid BigQuery.
create table if not exists {{dataset}}.ops_backfill_chunk (
  chunk_id        string not null    options (description = 'Chunk id: coin, currency, granularity and range.'),
  coin_id         string not null    options (description = 'CoinGecko coin id.'),
  vs_currency     string not null    options (description = 'Quote currency.'),
  granularity     string not null    options (description = 'daily | hourly.'),
  range_from      timestamp not null options (description = 'Start of the range (inclusive).'),
  range_to        timestamp not null options (description = 'End of the range (exclusive).'),
  status          string not null    options (description = 'loaded | failed.'),
  raw_object      string             options (description = 'Lake object of the answer or of the failed fetch.'),
  raw_generation  string             options (description = 'Generation of that object.'),
  points_in       int64              options (description = 'Points in the answer.'),
  points_loaded   int64              options (description = 'Rows this chunk added (0 when others had them already).'),
  points_rejected int64              options (description = 'Points that were not [timestamp, non-negative price].'),
  error_code      string             options (description = 'Error code of a failed chunk.'),
  error_message   string             options (description = 'Error message of a failed chunk.'),
  updated_at      timestamp not null options (description = 'Last change of this row.')
)
options (
  description = 'One row per backfill chunk (one market_chart/range call): status, counts, error.'
);
