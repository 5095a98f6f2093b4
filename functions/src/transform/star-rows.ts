import type { DecodedRawObject } from '../core/raw-object.js';
import type { RawObjectRef } from '../core/ports.js';
import { utcDate } from '../core/run-identity.js';
import { shortHash, stableKey } from '../core/stable-key.js';
import type { StarBatch } from '../core/warehouse.js';
import {
  MARKET_NUMBER_FIELDS,
  type AssetVersionRow,
  type FactRow,
  type RejectedRow,
} from '../schema/tables.js';
import { calendarRow, dateKey } from './calendar.js';
import { checkMarketRecord, type MarketRecord } from './market-record.js';
import { TransformError } from './errors.js';

/** Durable asset key: the CoinGecko id, hashed (symbols are not unique, ids are). */
export const assetKey = (coinId: string): number => stableKey('asset', coinId);

/** Key of the asset version that starts at `validFrom`. */
export const assetVersionKey = (coinId: string, validFrom: Date): number =>
  stableKey('asset_version', coinId, validFrom.toISOString());

/** What type 2 history tracks: a change in any of these opens a new version. */
export const assetAttributesHash = (r: Pick<MarketRecord, 'symbol' | 'name' | 'image'>): string =>
  shortHash(r.symbol, r.name, r.image ?? '');

interface Candidate {
  index: number;
  record: MarketRecord;
  /** The record as it came, for the rejected-records table. */
  item: unknown;
}

/**
 * Among records sharing a coin id, keep the freshest: newest last_updated, then larger market cap,
 * then the earlier position. The order of the response does not change the winner.
 */
function better(a: Candidate, b: Candidate): Candidate {
  const ta = a.record.last_updated?.getTime() ?? -Infinity;
  const tb = b.record.last_updated?.getTime() ?? -Infinity;
  if (ta !== tb) return ta > tb ? a : b;
  const ma = a.record.market_cap ?? -Infinity;
  const mb = b.record.market_cap ?? -Infinity;
  if (ma !== mb) return ma > mb ? a : b;
  return a.index < b.index ? a : b;
}

/**
 * Turns a run's raw object into everything the warehouse writes: fact rows, asset version
 * candidates, the date row and the rejected records. Pure: no I/O, deterministic keys.
 */
export function buildStarBatch(raw: DecodedRawObject, ref: RawObjectRef, loadStartedAt: Date): StarBatch {
  const { manifest } = raw;
  const slot = new Date(manifest.slot);
  if (Number.isNaN(slot.getTime())) {
    throw new TransformError(`raw object ${ref.key} has an invalid slot ${manifest.slot}`, {
      code: 'raw_object_malformed',
      retryable: false,
    });
  }
  const rejected: RejectedRow[] = [];
  const reject = (index: number, coinId: string | null, reason: string, record: unknown) =>
    rejected.push({
      run_id: manifest.runId,
      slot_ts: slot,
      record_index: index,
      coin_id: coinId,
      reason,
      raw_record: JSON.stringify(record) ?? 'null',
      rejected_at: loadStartedAt,
    });

  const byId = new Map<string, Candidate>();
  const all: Candidate[] = [];
  let index = 0;
  raw.pages.forEach((page, pageNo) => {
    if (!Array.isArray(page)) {
      throw new TransformError(`raw object ${ref.key}: page ${pageNo + 1} is not an array`, {
        code: 'raw_object_malformed',
        retryable: false,
      });
    }
    for (const item of page) {
      const check = checkMarketRecord(item);
      if (check.ok) {
        const candidate = { index, record: check.record, item };
        all.push(candidate);
        const current = byId.get(check.record.id);
        byId.set(check.record.id, current ? better(current, candidate) : candidate);
      } else {
        reject(index, check.coinId, check.reason, item);
      }
      index += 1;
    }
  });

  let duplicates = 0;
  for (const c of all) {
    const kept = byId.get(c.record.id)!;
    if (kept !== c) {
      duplicates += 1;
      const reason = `duplicate coin id "${c.record.id}" in this snapshot (kept record #${kept.index})`;
      reject(c.index, c.record.id, reason, c.item);
    }
  }

  const kept = [...byId.values()].sort((a, b) => a.index - b.index).map((c) => c.record);
  const snapshotDate = utcDate(slot);
  const facts: FactRow[] = kept.map((r) => {
    const numbers = Object.fromEntries(MARKET_NUMBER_FIELDS.map((f) => [f, r[f]])) as Pick<
      FactRow,
      (typeof MARKET_NUMBER_FIELDS)[number]
    >;
    return {
      snapshot_date: snapshotDate,
      date_key: dateKey(slot),
      asset_key: assetKey(r.id),
      coin_id: r.id,
      vs_currency: manifest.vsCurrency,
      slot_ts: slot,
      last_updated: r.last_updated,
      market_cap_rank: r.market_cap_rank,
      ...numbers,
      ath_date: r.ath_date,
      atl_date: r.atl_date,
      roi_times: r.roi?.times ?? null,
      roi_currency: r.roi?.currency ?? null,
      roi_percentage: r.roi?.percentage ?? null,
      run_id: manifest.runId,
      loaded_at: loadStartedAt,
    };
  });
  const assetCandidates: AssetVersionRow[] = kept.map((r) => ({
    asset_version_key: assetVersionKey(r.id, slot),
    asset_key: assetKey(r.id),
    coin_id: r.id,
    symbol: r.symbol,
    name: r.name,
    image_url: r.image,
    attributes_hash: assetAttributesHash(r),
    valid_from: slot,
    run_id: manifest.runId,
    loaded_at: loadStartedAt,
  }));

  rejected.sort((a, b) => a.record_index - b.record_index);
  return {
    runId: manifest.runId,
    source: manifest.source,
    vsCurrency: manifest.vsCurrency,
    slot,
    raw: ref,
    facts,
    assetCandidates,
    dates: [calendarRow(slot)],
    rejected,
    counts: { recordsIn: index, rejected: rejected.length, duplicates },
    expectedRecords: manifest.request.coinLimit,
    loadStartedAt,
  };
}
