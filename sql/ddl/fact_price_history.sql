-- Generated from functions/src/schema/tables.ts by `npx tsx scripts/generate-ddl.ts`; do not edit.
-- Pulumi creates the tables from the same source; this DDL is for bootstrapping by hand and for
-- the ZetaSQL check that the schema is valid BigQuery.
create table if not exists {{dataset}}.fact_price_history (
  history_date date not null      options (description = 'UTC date of ts; the partitioning column.'),
  date_key     int64 not null     options (description = 'Key to dim_date (YYYYMMDD of ts).'),
  asset_key    int64 not null     options (description = 'Durable key to dim_asset (hash of the CoinGecko id).'),
  coin_id      string not null    options (description = 'CoinGecko coin id.'),
  vs_currency  string not null    options (description = 'Quote currency of price, market_cap and total_volume.'),
  granularity  string not null    options (description = 'daily | hourly.'),
  ts           timestamp not null options (description = 'Start of the hour or UTC day the point stands for.'),
  source_ts    timestamp not null options (description = 'CoinGecko\'s own timestamp of the point (off the grid).'),
  price        float64 not null   options (description = 'Price.'),
  market_cap   float64            options (description = 'Market cap; null where CoinGecko reports 0 (unknown).'),
  total_volume float64            options (description = '24 h volume.'),
  chunk_id     string not null    options (description = 'Backfill chunk (market_chart/range call) that loaded this row.'),
  loaded_at    timestamp not null options (description = 'When the row was loaded.')
)
partition by history_date
cluster by asset_key
options (
  require_partition_filter = true,
  description = 'One row per asset, quote currency, granularity and hour or UTC day: backfilled CoinGecko market_chart history.'
);
