-- Asset versions with their validity: a version applies from valid_from until, not including,
-- valid_to (the next version of the same asset); the newest version of an asset is current.
create or replace view {{dataset}}.v_dim_asset as
select
  a.asset_version_key,
  a.asset_key,
  a.coin_id,
  a.symbol,
  a.name,
  a.image_url,
  a.attributes_hash,
  a.valid_from,
  lead(a.valid_from) over asset_history as valid_to,
  lead(a.valid_from) over asset_history is null as is_current,
  a.run_id,
  a.loaded_at
from {{dataset}}.dim_asset as a
window asset_history as (partition by a.asset_key order by a.valid_from);
