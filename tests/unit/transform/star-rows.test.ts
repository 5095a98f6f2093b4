import type { DecodedRawObject } from '../../../functions/src/core/raw-object.js';
import { assetKey, assetVersionKey, buildStarBatch } from '../../../functions/src/transform/star-rows.js';
import { calendarRow, isoWeek } from '../../../functions/src/transform/calendar.js';

const slot = '2026-11-21T05:00:00.000Z';
const raw = (pages: unknown[]): DecodedRawObject => ({
  manifest: {
    schemaVersion: 1,
    runId: 'coingecko_usd_20261121T050000Z',
    source: 'coingecko',
    endpoint: '/api/v3/coins/markets',
    vsCurrency: 'usd',
    slot,
    market: 'test',
    request: { coinLimit: 10, perPage: 10 },
    pages: [],
    recordCount: 0,
    extractedAt: slot,
  },
  pages,
});
const ref = { bucket: 'b', key: 'k', generation: '1' };
const now = new Date('2026-11-21T05:00:05Z');
const coin = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  symbol: id.slice(0, 3),
  name: id.toUpperCase(),
  image: null,
  current_price: 1,
  market_cap: 10,
  last_updated: '2026-11-21T04:59:00Z',
  ...extra,
});

describe('buildStarBatch', () => {
  it('builds facts, asset candidates and the date row with deterministic keys', () => {
    const b = buildStarBatch(raw([[coin('bitcoin'), coin('ethereum')]]), ref, now);
    expect(b.facts).toHaveLength(2);
    expect(b.facts[0]).toMatchObject({
      snapshot_date: '2026-11-21',
      date_key: 20261121,
      coin_id: 'bitcoin',
      asset_key: assetKey('bitcoin'),
      slot_ts: new Date(slot),
      vs_currency: 'usd',
      run_id: 'coingecko_usd_20261121T050000Z',
    });
    expect(assetKey('bitcoin')).toBe(assetKey('bitcoin'));
    expect(assetKey('bitcoin')).not.toBe(assetKey('ethereum'));
    expect(Number.isSafeInteger(assetKey('bitcoin'))).toBe(true);
    expect(b.assetCandidates[0]).toMatchObject({
      asset_version_key: assetVersionKey('bitcoin', new Date(slot)),
      valid_from: new Date(slot),
      symbol: 'bit',
    });
    expect(b.dates).toEqual([calendarRow(new Date(slot))]);
    expect(b.counts).toEqual({ recordsIn: 2, rejected: 0, duplicates: 0 });
  });

  it('rejects bad records with their index and reason and loads the good ones next to them', () => {
    const b = buildStarBatch(
      raw([[coin('a'), { symbol: 'x', name: 'X' }], [coin('b', { current_price: 'NaN' })]]),
      ref,
      now,
    );
    expect(b.facts.map((f) => f.coin_id)).toEqual(['a']);
    expect(b.rejected.map((r) => [r.record_index, r.coin_id])).toEqual([
      [1, null],
      [2, 'b'],
    ]);
    expect(b.rejected[1]!.reason).toMatch(/current_price must be a number/);
    expect(JSON.parse(b.rejected[1]!.raw_record)).toMatchObject({ id: 'b', current_price: 'NaN' });
    expect(b.counts).toEqual({ recordsIn: 3, rejected: 2, duplicates: 0 });
  });

  it('resolves duplicated ids to the freshest record whatever the order, and counts them', () => {
    const older = coin('a', { current_price: 1, last_updated: '2026-11-21T04:50:00Z' });
    const newer = coin('a', { current_price: 2, last_updated: '2026-11-21T04:58:00Z' });
    for (const pages of [[[older, newer]], [[newer], [older]]]) {
      const b = buildStarBatch(raw(pages), ref, now);
      expect(b.facts).toHaveLength(1);
      expect(b.facts[0]!.current_price).toBe(2);
      expect(b.counts.duplicates).toBe(1);
      expect(b.rejected[0]!.reason).toMatch(/duplicate coin id "a"/);
    }
    const tieA = coin('t', { market_cap: 5 });
    const tieB = coin('t', { market_cap: 9 });
    expect(buildStarBatch(raw([[tieA, tieB]]), ref, now).facts[0]!.market_cap).toBe(9);
  });

  it('fails the whole object only when a page is not an array', () => {
    expect(() => buildStarBatch(raw([{ status: 'x' }]), ref, now)).toThrow(/page 1 is not an array/);
  });
});

describe('calendar', () => {
  it('computes ISO weeks across year ends', () => {
    expect(isoWeek(new Date('2021-01-03T12:00:00Z'))).toEqual({ isoYear: 2020, isoWeek: 53 });
    expect(isoWeek(new Date('2024-12-30T00:00:00Z'))).toEqual({ isoYear: 2025, isoWeek: 1 });
    expect(calendarRow(new Date('2026-11-21T23:59:59Z'))).toMatchObject({
      date_key: 20261121,
      date: '2026-11-21',
      quarter: 4,
      day_name: 'Saturday',
      day_of_week: 6,
      is_weekend: true,
    });
  });
});
