/**
 * Random but reproducible load scenarios for the order-independence tests of the type 2 rule:
 * a few assets observed over a few slots, renamed now and then (and back), sometimes missing from
 * a snapshot; loaded in shuffled orders with redeliveries. fast-check is not a dependency, so a
 * seeded generator drives plain loops; a failing seed is printed by the test that uses it.
 */
import type { DecodedRawObject } from '../../functions/src/core/raw-object.js';
import { compactUtc } from '../../functions/src/core/run-identity.js';
import type { StarBatch } from '../../functions/src/core/warehouse.js';
import type { AssetVersionRow } from '../../functions/src/schema/tables.js';
import { buildStarBatch } from '../../functions/src/transform/star-rows.js';

/** mulberry32: a tiny, well-mixed 32-bit generator; the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates on a copy. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export interface Coin {
  id: string;
  name: string;
  symbol: string;
}

const slotAt = (index: number) => new Date(Date.UTC(2026, 10, 21, index));

/** A run's batch as the load function builds it, from one /coins/markets page as CoinGecko sent it. */
export function pageBatch(slot: Date, page: readonly unknown[], vsCurrency = 'usd'): StarBatch {
  const runId = `coingecko_${vsCurrency}_${compactUtc(slot)}`;
  const raw: DecodedRawObject = {
    manifest: {
      schemaVersion: 1,
      runId,
      source: 'coingecko',
      endpoint: '/api/v3/coins/markets',
      vsCurrency,
      slot: slot.toISOString(),
      market: 'test',
      request: { coinLimit: page.length, perPage: page.length },
      pages: [],
      recordCount: page.length,
      extractedAt: slot.toISOString(),
    },
    pages: [page],
  };
  // The load time is the slot: deterministic, so every order can be compared row for row.
  const ref = { bucket: 'b', key: `${runId}.json`, generation: String(slot.getTime()) };
  return buildStarBatch(raw, ref, slot);
}

/** A run's batch for slot `slotIndex` (hours after a fixed day), from a page of `coins`. */
export function marketBatch(slotIndex: number, coins: readonly Coin[], vsCurrency = 'usd'): StarBatch {
  return pageBatch(
    slotAt(slotIndex),
    coins.map((c, i) => ({
      id: c.id,
      name: c.name,
      symbol: c.symbol,
      image: `https://img.example/${c.id}.png`,
      current_price: slotIndex + i,
      market_cap: 1000 - i,
    })),
    vsCurrency,
  );
}

/**
 * `slots` snapshots of `assets` coins. Each coin keeps its attributes most of the time, changes
 * to one of three names (so changes back happen), and is absent from about one snapshot in six.
 */
export function randomHistory(random: () => number, slots: number, assets: number): StarBatch[] {
  const names = ['Alpha', 'Beta', 'Gamma'];
  const current = Array.from({ length: assets }, (_, i) => ({ id: `coin-${i}`, n: 0 }));
  const batches: StarBatch[] = [];
  for (let s = 0; s < slots; s++) {
    const coins: Coin[] = [];
    for (const c of current) {
      if (random() < 0.3) c.n = Math.floor(random() * names.length);
      if (random() < 1 / 6) continue;
      coins.push({ id: c.id, name: `${names[c.n]} ${c.id}`, symbol: names[c.n]!.slice(0, 3).toLowerCase() });
    }
    batches.push(marketBatch(s, coins));
  }
  return batches;
}

/**
 * The oracle, independent of any SQL: the history that loading every snapshot in slot order gives.
 * A version starts at each observed slot whose attributes differ from the asset's previous one.
 */
export function expectedAssetVersions(batches: readonly StarBatch[]): AssetVersionRow[] {
  const bySlot = [...batches].sort((a, b) => a.slot.getTime() - b.slot.getTime());
  const last = new Map<number, string>();
  const versions: AssetVersionRow[] = [];
  for (const b of bySlot) {
    for (const candidate of b.assetCandidates) {
      if (last.get(candidate.asset_key) === candidate.attributes_hash) continue;
      last.set(candidate.asset_key, candidate.attributes_hash);
      versions.push(candidate);
    }
  }
  return versions.sort(
    (a, b) => a.asset_key - b.asset_key || a.valid_from.getTime() - b.valid_from.getTime(),
  );
}
