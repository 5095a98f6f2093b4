import { describe, expect, it } from '@jest/globals';
import { RunEventSchema } from '../../../functions/src/core/event.js';
import { rawObjectKey } from '../../../functions/src/core/lake-layout.js';
import type { RawManifest } from '../../../functions/src/core/raw-object.js';
import {
  parseDateRange,
  parseRawObjectKey,
  replayEvent,
  selectRawKeys,
} from '../../../functions/src/core/replay-event.js';
import { runIdentity } from '../../../functions/src/core/run-identity.js';

const key = (time: string, currency = 'usd') => rawObjectKey(runIdentity(new Date(time), currency, 15));

describe('raw object keys', () => {
  it('reads what lake-layout writes', () => {
    expect(parseRawObjectKey(key('2026-11-21T05:07:00Z', 'eur'))).toEqual({
      key: 'raw/coingecko/coins_markets/vs_currency=eur/dt=2026-11-21/coingecko_eur_20261121T050000Z.json',
      vsCurrency: 'eur',
      date: '2026-11-21',
      runId: 'coingecko_eur_20261121T050000Z',
      compactSlot: '20261121T050000Z',
    });
  });

  it.each([
    'raw/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/notes.txt',
    // The folder's currency and the run id's disagree.
    'raw/coingecko/coins_markets/vs_currency=eur/dt=2026-11-21/coingecko_usd_20261121T050000Z.json',
    // Filed under another day than its slot: a date filter would miss or wrongly include it.
    'raw/coingecko/coins_markets/vs_currency=usd/dt=2026-11-22/coingecko_usd_20261121T050000Z.json',
    'failures/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/coingecko_usd_20261121T050000Z/x.json',
  ])('is not a raw object key: %s', (k) => {
    expect(parseRawObjectKey(k)).toBeUndefined();
  });
});

describe('--from / --to', () => {
  it.each([
    [['2026-11-21', undefined], { from: '2026-11-21', to: undefined }],
    [[undefined, '2026-11-21'], { from: undefined, to: '2026-11-21' }],
    [['2026-11-21', '2026-11-21'], { from: '2026-11-21', to: '2026-11-21' }],
  ] as const)('%j is a range', (args, range) => {
    expect(parseDateRange(args[0], args[1])).toEqual(range);
  });

  it.each([
    [['yesterday', undefined], /--from must be a UTC date such as 2026-11-21, got "yesterday"/],
    [[undefined, '2026-02-30'], /--to must be a UTC date .*"2026-02-30"/],
    [['2026-11-21T05:00:00Z', undefined], /--from must be a UTC date/],
    [['2026-11-22', '2026-11-21'], /--from 2026-11-22 is after --to 2026-11-21/],
  ] as const)('%j is refused', (args, message) => {
    expect(() => parseDateRange(args[0], args[1])).toThrow(message);
  });

  it('keeps the partitions in range, inclusive, in slot order then currency', () => {
    const keys = [
      key('2026-11-22T00:00:00Z', 'usd'),
      key('2026-11-20T23:45:00Z', 'usd'),
      key('2026-11-21T23:45:00Z', 'usd'),
      key('2026-11-21T00:00:00Z', 'usd'),
      key('2026-11-21T00:00:00Z', 'eur'),
      'raw/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/stray.json',
    ];
    const { selected, ignored } = selectRawKeys(keys, { from: '2026-11-21', to: '2026-11-21' });
    expect(selected.map((s) => s.runId)).toEqual([
      'coingecko_eur_20261121T000000Z',
      'coingecko_usd_20261121T000000Z',
      'coingecko_usd_20261121T234500Z',
    ]);
    expect(ignored).toEqual(['raw/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/stray.json']);
  });
});

describe('the rebuilt event', () => {
  const manifest: RawManifest = {
    schemaVersion: 1,
    runId: 'coingecko_usd_20261121T050000Z',
    source: 'coingecko',
    endpoint: '/api/v3/coins/markets',
    vsCurrency: 'usd',
    slot: '2026-11-21T05:00:00.000Z',
    market: 'simulator',
    request: { coinLimit: 250, perPage: 250 },
    pages: [],
    recordCount: 250,
    extractedAt: '2026-11-21T05:00:03.000Z',
  };
  const k = parseRawObjectKey(key('2026-11-21T05:00:00Z'))!;

  it('is the extract event: kind, ids, generation as given, a valid RunEvent', () => {
    const event = replayEvent(k, manifest, { bucket: 'lake', key: k.key, generation: '1700000000000001' });
    expect(RunEventSchema.parse(event)).toEqual({
      schemaVersion: 1,
      kind: 'raw_snapshot',
      runId: 'coingecko_usd_20261121T050000Z',
      source: 'coingecko',
      vsCurrency: 'usd',
      slot: '2026-11-21T05:00:00.000Z',
      bucket: 'lake',
      object: k.key,
      generation: '1700000000000001',
      recordCount: 250,
    });
  });

  it("refuses an object holding another run's manifest", () => {
    expect(() =>
      replayEvent(
        k,
        { ...manifest, runId: 'coingecko_usd_20261121T051500Z' },
        { bucket: 'b', key: k.key, generation: '1' },
      ),
    ).toThrow(/holds the manifest of run coingecko_usd_20261121T051500Z, not coingecko_usd_20261121T050000Z/);
  });
});
