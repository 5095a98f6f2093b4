/**
 * The type 2 rule for dim_asset, order-independent (issue 8), in the twin's DuckDB dialect. The
 * BigQuery twin of these two statements is in sql/load/merge_run.sql; both are tested to give the
 * same table whatever the order in which runs are loaded.
 *
 * The dimension must equal what loading every snapshot in slot order would give: versions start
 * at each observed slot whose attributes differ from the previous observed slot's. Pub/Sub
 * delivers out of order, so a snapshot at slot T can arrive after later ones. With V the version
 * covering T, N the next version, and S the asset's next observed slot after T (its next fact row):
 * - T's attributes equal V's (or V starts at T: a redelivery): nothing changes;
 * - otherwise a version opens at T. If S comes before N, S was covered by V and still has V's
 *   attributes, so V resumes at S (a split of V: "tail" row). If S is N's start and N has T's
 *   attributes, N now starts at T: the insert at T followed by the removal of N does exactly that.
 * Step 2 (removing a version whose predecessor has the same attributes) only ever fires for that
 * last case, and also heals redundant versions left by the earlier, order-dependent rule.
 *
 * A tail row is a version starting at S, so it gets the key, run and load time that loading S in
 * order would have given it: `asset_version_key` hashes coin id and S exactly as
 * `assetVersionKey` does in TypeScript (see ASSET_VERSION_KEY_SQL), and `run_id`/`loaded_at` come
 * from S's fact row, which the run that loaded S wrote with its own run id and load time.
 */

/**
 * `assetVersionKey(coinId, validFrom)` (functions/src/transform/star-rows.ts) in DuckDB SQL:
 * stableKey takes the first 64 bits of sha256 over the parts joined by U+001F and keeps the top 53;
 * the first 14 hex digits (56 bits) shifted right by 3 are the same 53 bits, and fit a BIGINT.
 */
export function assetVersionKeySql(coinId: string, validFrom: string): string {
  return (
    `(cast('0x' || substr(sha256('asset_version' || chr(31) || ${coinId} || chr(31) || ` +
    `strftime(${validFrom}, '%Y-%m-%dT%H:%M:%S.%gZ')), 1, 14) as bigint) >> 3)`
  );
}

/**
 * Step 1: the candidates (`staging`, one per asset, valid from the run's slot) that open a version,
 * plus the tail of each version they split. Dimensions are applied before the run's facts, so the
 * fact table holds exactly the slots observed by earlier loads.
 */
export function insertAssetVersionsSql(staging: string, earliestValidFrom?: Date): string {
  // A constant lower bound on the fact rows that can be a candidate's next snapshot lets DuckDB skip
  // the fact's row groups by their min/max slot (facts arrive roughly in slot order), instead of
  // joining every fact row ever loaded: the statement no longer grows with the fact table.
  const after = earliestValidFrom
    ? ` and f.slot_ts > timestamp '${earliestValidFrom.toISOString().replace('T', ' ').replace('Z', '')}'`
    : '';
  return `
    insert into dim_asset (asset_version_key, asset_key, coin_id, symbol, name, image_url,
                           attributes_hash, valid_from, run_id, loaded_at)
    with candidate as (
      select * from ${staging}
    ),
    version_in_effect as (
      select c.asset_key, d.valid_from as in_effect_from, d.symbol, d.name, d.image_url, d.attributes_hash
      from candidate as c
      join dim_asset as d on d.asset_key = c.asset_key and d.valid_from <= c.valid_from
      qualify row_number() over (partition by c.asset_key order by d.valid_from desc) = 1
    ),
    next_version as (
      select c.asset_key, min(d.valid_from) as next_from
      from candidate as c
      join dim_asset as d on d.asset_key = c.asset_key and d.valid_from > c.valid_from
      group by c.asset_key
    ),
    next_snapshot as (
      select c.asset_key, f.slot_ts, f.run_id, f.loaded_at
      from candidate as c
      join fact_market_snapshot as f on f.asset_key = c.asset_key and f.slot_ts > c.valid_from${after}
      qualify row_number() over (partition by c.asset_key order by f.slot_ts, f.run_id) = 1
    ),
    opening as (
      select c.*
      from candidate as c
      left join version_in_effect as v on v.asset_key = c.asset_key
      where v.asset_key is null
         or (v.in_effect_from <> c.valid_from and v.attributes_hash <> c.attributes_hash)
    )
    select o.asset_version_key, o.asset_key, o.coin_id, o.symbol, o.name, o.image_url,
           o.attributes_hash, o.valid_from, o.run_id, o.loaded_at
    from opening as o
    union all
    select ${assetVersionKeySql('o.coin_id', 'n.slot_ts')}, o.asset_key, o.coin_id, v.symbol, v.name,
           v.image_url, v.attributes_hash, n.slot_ts, n.run_id, n.loaded_at
    from opening as o
    join version_in_effect as v on v.asset_key = o.asset_key
    join next_snapshot as n on n.asset_key = o.asset_key
    left join next_version as x on x.asset_key = o.asset_key
    where x.next_from is null or n.slot_ts < x.next_from`;
}

/**
 * Step 2: a version whose predecessor has the same attributes adds nothing; it is removed, so the
 * predecessor (a late snapshot's version) now covers its slots. Limited to the run's assets.
 */
export function removeRedundantVersionsSql(staging: string): string {
  return `
    merge into dim_asset as t
    using (
      select h.asset_key, h.valid_from
      from (
        select a.asset_key, a.valid_from, a.attributes_hash,
               lag(a.attributes_hash) over (partition by a.asset_key order by a.valid_from) as previous_hash
        from dim_asset as a
        where a.asset_key in (select s.asset_key from ${staging} as s)
      ) as h
      where h.previous_hash = h.attributes_hash
    ) as r
    on t.asset_key = r.asset_key and t.valid_from = r.valid_from
    when matched then delete`;
}
