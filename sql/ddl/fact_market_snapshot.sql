-- Generated from functions/src/schema/tables.ts by `npx tsx scripts/generate-ddl.ts`; do not edit.
-- Pulumi creates the tables from the same source; this DDL is for bootstrapping by hand and for
-- the ZetaSQL check that the schema is valid BigQuery.
create table if not exists {{dataset}}.fact_market_snapshot (
  snapshot_date                    date not null      options (description = 'UTC date of the slot; the partitioning column.'),
  date_key                         int64 not null     options (description = 'Key to dim_date (YYYYMMDD of the slot).'),
  asset_key                        int64 not null     options (description = 'Durable key to dim_asset (hash of the CoinGecko id).'),
  coin_id                          string not null    options (description = 'CoinGecko coin id (degenerate natural key).'),
  vs_currency                      string not null    options (description = 'Quote currency of every price field.'),
  slot_ts                          timestamp not null options (description = 'Scheduled time of the run, floored to the cadence.'),
  last_updated                     timestamp          options (description = 'Source\'s own last_updated for this coin.'),
  market_cap_rank                  int64              options (description = 'Rank by market cap at the time (may be null).'),
  current_price                    float64            options (description = 'CoinGecko current_price.'),
  market_cap                       float64            options (description = 'CoinGecko market_cap.'),
  fully_diluted_valuation          float64            options (description = 'CoinGecko fully_diluted_valuation.'),
  total_volume                     float64            options (description = 'CoinGecko total_volume.'),
  high_24h                         float64            options (description = 'CoinGecko high_24h.'),
  low_24h                          float64            options (description = 'CoinGecko low_24h.'),
  price_change_24h                 float64            options (description = 'CoinGecko price_change_24h.'),
  price_change_percentage_24h      float64            options (description = 'CoinGecko price_change_percentage_24h.'),
  market_cap_change_24h            float64            options (description = 'CoinGecko market_cap_change_24h.'),
  market_cap_change_percentage_24h float64            options (description = 'CoinGecko market_cap_change_percentage_24h.'),
  circulating_supply               float64            options (description = 'CoinGecko circulating_supply.'),
  total_supply                     float64            options (description = 'CoinGecko total_supply.'),
  max_supply                       float64            options (description = 'CoinGecko max_supply.'),
  ath                              float64            options (description = 'CoinGecko ath.'),
  ath_change_percentage            float64            options (description = 'CoinGecko ath_change_percentage.'),
  atl                              float64            options (description = 'CoinGecko atl.'),
  atl_change_percentage            float64            options (description = 'CoinGecko atl_change_percentage.'),
  ath_date                         timestamp          options (description = 'Time of the all-time high.'),
  atl_date                         timestamp          options (description = 'Time of the all-time low.'),
  roi_times                        float64            options (description = 'ROI multiple since ICO, when CoinGecko reports one.'),
  roi_currency                     string             options (description = 'Currency of the ROI figure.'),
  roi_percentage                   float64            options (description = 'ROI percentage.'),
  run_id                           string not null    options (description = 'Run that loaded this row.'),
  loaded_at                        timestamp not null options (description = 'When the row was loaded.')
)
partition by snapshot_date
cluster by asset_key
options (
  require_partition_filter = true,
  description = 'One row per asset, quote currency and slot: a CoinGecko /coins/markets snapshot.'
);
