import type { DuckDBConnection } from '@duckdb/node-api';
import type { AssetVersionRow } from '../../../functions/src/schema/tables.js';

interface Latest {
  validFrom: number;
  attributesHash: string;
}

/**
 * What a load in slot order needs from dim_asset, kept in memory by the one process that writes
 * the warehouse (DuckDB's file lock lets no other in): each asset's latest version, and the latest
 * slot any fact or version has.
 *
 * A snapshot later than everything loaded so far is the common case (a schedule, a replay in name
 * order). For it the type 2 rule of asset-history.ts reduces to "open a version where the asset's
 * latest version has other attributes, or there is none": no version or fact row lies after the
 * slot, so nothing is split or moved. Deciding that here saves the type 2 statement (its joins and
 * window, ~10-40 ms a load), and the new versions are appended like the facts. Any other load (a
 * late snapshot, a redelivery) takes the SQL path and the cache is rebuilt from the table.
 */
export class LatestVersions {
  private byAsset: Map<number, Latest> | undefined;
  private latestSlot = Number.NEGATIVE_INFINITY;

  /** Loads the cache from the warehouse when it is not there (first use, or after invalidate()). */
  async ensure(connection: DuckDBConnection): Promise<void> {
    if (this.byAsset) return;
    const versions = await connection.runAndReadAll(
      `select asset_key, epoch_ms(valid_from) as valid_from_ms, attributes_hash from dim_asset
       qualify row_number() over (partition by asset_key order by valid_from desc) = 1`,
    );
    const byAsset = new Map<number, Latest>();
    for (const [key, from, hash] of versions.getRows()) {
      byAsset.set(Number(key), { validFrom: Number(from), attributesHash: String(hash) });
    }
    const slots = await connection.runAndReadAll(
      `select greatest(coalesce((select epoch_ms(max(slot_ts)) from fact_market_snapshot), 0),
                       coalesce((select epoch_ms(max(valid_from)) from dim_asset), 0)) as latest`,
    );
    this.latestSlot = Number(slots.getRows()[0]![0]);
    this.byAsset = byAsset;
  }

  /** True when `slot` is later than every fact slot and version start in the warehouse. */
  isInOrder(slot: Date): boolean {
    return this.byAsset !== undefined && slot.getTime() > this.latestSlot;
  }

  /** The candidates that open a version, for an in-order load (see the class comment). */
  opening(candidates: readonly AssetVersionRow[]): AssetVersionRow[] {
    const byAsset = this.byAsset!;
    return candidates.filter((c) => byAsset.get(c.asset_key)?.attributesHash !== c.attributes_hash);
  }

  /** After an in-order load committed: its slot and the versions it opened are now the latest. */
  committed(slot: Date, opened: readonly AssetVersionRow[]): void {
    if (!this.byAsset) return;
    for (const v of opened) {
      this.byAsset.set(v.asset_key, { validFrom: v.valid_from.getTime(), attributesHash: v.attributes_hash });
    }
    this.latestSlot = Math.max(this.latestSlot, slot.getTime());
  }

  /** Forgets everything: the next load rebuilds it from the table. */
  invalidate(): void {
    this.byAsset = undefined;
    this.latestSlot = Number.NEGATIVE_INFINITY;
  }
}
