import { describe, expect, it } from '@jest/globals';
import { RunEventSchema } from '../../../functions/src/core/event.js';
import { failureObjectKey, rawObjectKey } from '../../../functions/src/core/lake-layout.js';
import type { RawManifest } from '../../../functions/src/core/raw-object.js';
import {
  failureEvent,
  parseDateRange,
  parseRawObjectKey,
  replayEvent,
  type RawObjectKey,
} from '../../../functions/src/core/replay-event.js';
import { selectReplayKeys } from '../../../functions/src/core/replay-keys.js';
import { runIdentity } from '../../../functions/src/core/run-identity.js';

const key = (time: string, currency = 'usd') => rawObjectKey(runIdentity(new Date(time), currency, 15));

describe('raw object keys', () => {
  it('reads what lake-layout writes', () => {
    expect(parseRawObjectKey(key('2026-11-21T05:07:00Z', 'eur'))).toEqual({
      kind: 'raw_snapshot',
      attempt: '',
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

describe('failure record keys', () => {
  it('reads what lake-layout writes for a failed attempt', () => {
    const run = runIdentity(new Date('2026-11-21T05:07:00Z'), 'usd', 15);
    const k = failureObjectKey(run, new Date('2026-11-21T05:00:09Z'));
    expect(parseRawObjectKey(k)).toMatchObject({
      kind: 'run_failed',
      attempt: '20261121T050009Z',
      runId: 'coingecko_usd_20261121T050000Z',
      date: '2026-11-21',
    });
  });

  it("rebuilds the run_failed event, with the record's error and no details", () => {
    const run = runIdentity(new Date('2026-11-21T05:07:00Z'), 'usd', 15);
    const k = parseRawObjectKey(failureObjectKey(run, new Date('2026-11-21T05:00:09Z')))!;
    const record = {
      runId: run.runId,
      slot: '2026-11-21T05:00:00.000Z',
      error: { code: 'http_429', message: 'rate limited', retryable: true, details: { status: 429 } },
    };
    const event = failureEvent(k, record, { bucket: 'b', key: k.key, generation: '9' });
    expect(RunEventSchema.parse(event)).toEqual({
      schemaVersion: 1,
      kind: 'run_failed',
      runId: run.runId,
      source: 'coingecko',
      vsCurrency: 'usd',
      slot: '2026-11-21T05:00:00.000Z',
      bucket: 'b',
      object: k.key,
      generation: '9',
      recordCount: 0,
      error: { code: 'http_429', message: 'rate limited', retryable: true },
    });
    expect(() => failureEvent(k, { hello: 1 }, { bucket: 'b', key: k.key, generation: '9' })).toThrow(
      /not a failure record: runId/,
    );
  });

  it("orders a run's failed attempts, oldest first, before its raw object", () => {
    const run = runIdentity(new Date('2026-11-21T05:00:00Z'), 'usd', 15);
    const keys = [
      rawObjectKey(run),
      failureObjectKey(run, new Date('2026-11-21T05:03:00Z')),
      failureObjectKey(run, new Date('2026-11-21T05:01:00Z')),
      key('2026-11-20T23:45:00Z'),
    ];
    const selected = selectReplayKeys(keys, {}).selected as RawObjectKey[];
    expect(selected.map((k) => [k.kind, k.attempt, k.compactSlot])).toEqual([
      ['raw_snapshot', '', '20261120T234500Z'],
      ['run_failed', '20261121T050100Z', '20261121T050000Z'],
      ['run_failed', '20261121T050300Z', '20261121T050000Z'],
      ['raw_snapshot', '', '20261121T050000Z'],
    ]);
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
    const { selected, ignored } = selectReplayKeys(keys, { from: '2026-11-21', to: '2026-11-21' });
    expect((selected as RawObjectKey[]).map((s) => s.runId)).toEqual([
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
