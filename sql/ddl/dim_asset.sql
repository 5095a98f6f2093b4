-- Generated from functions/src/schema/tables.ts by `npx tsx scripts/generate-ddl.ts`; do not edit.
-- Pulumi creates the tables from the same source; this DDL is for bootstrapping by hand and for
-- the ZetaSQL check that the schema is valid BigQuery.
create table if not exists {{dataset}}.dim_asset (
  asset_version_key int64 not null     options (description = 'Key of this version (hash of coin id and valid_from).'),
  asset_key         int64 not null     options (description = 'Durable key of the asset (hash of the CoinGecko id).'),
  coin_id           string not null    options (description = 'CoinGecko id: stable, unlike symbols which are not unique.'),
  symbol            string not null    options (description = 'Ticker symbol as CoinGecko reports it.'),
  name              string not null    options (description = 'Display name.'),
  image_url         string             options (description = 'Logo URL.'),
  attributes_hash   string not null    options (description = 'Hash of the versioned attributes, to detect changes.'),
  valid_from        timestamp not null options (description = 'Slot from which this version applies.'),
  run_id            string not null    options (description = 'Run that created this version.'),
  loaded_at         timestamp not null options (description = 'When this version was loaded.')
)
cluster by asset_key
options (
  description = 'Asset versions (type 2 on symbol, name, image). A version is valid from valid_from until the next version of the same asset; see view v_dim_asset.'
);
