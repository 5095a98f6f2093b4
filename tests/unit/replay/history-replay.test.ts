import { describe, expect, it } from '@jest/globals';
import type { HistoryChunk } from '../../../functions/src/history/chunk-plan.js';
import { historyKeyInRange, parseHistoryObjectKey } from '../../../functions/src/history/history-replay.js';
import { historyFailureKey, historyObjectKey } from '../../../functions/src/history/lake-keys.js';

/** Backfill chunks' lake keys as replay reads them (history-replay.ts). */
const CHUNK: HistoryChunk = {
  chunkId: 'usd-coin_eur_hourly_20261101T000000Z_20261104T000000Z',
  coinId: 'usd-coin',
  vsCurrency: 'eur',
  granularity: 'hourly',
  from: new Date('2026-11-01T00:00:00Z'),
  to: new Date('2026-11-04T00:00:00Z'),
};

describe('backfill chunk keys', () => {
  it('reads what lake-keys writes: answers and failed fetches', () => {
    expect(parseHistoryObjectKey(historyObjectKey(CHUNK))).toEqual({
      kind: 'history_chunk',
      failed: false,
      attempt: '',
      key: historyObjectKey(CHUNK),
      chunk: CHUNK,
    });
    const failure = historyFailureKey(CHUNK, new Date('2026-12-05T01:02:03Z'));
    expect(parseHistoryObjectKey(failure)).toMatchObject({
      failed: true,
      attempt: '20261205T010203Z',
      chunk: CHUNK,
    });
  });

  it('refuses keys whose folder and chunk id disagree, and stray files', () => {
    const key = historyObjectKey(CHUNK);
    expect(parseHistoryObjectKey(key.replace('vs_currency=eur', 'vs_currency=usd'))).toBeUndefined();
    expect(parseHistoryObjectKey(key.replace('granularity=hourly', 'granularity=daily'))).toBeUndefined();
    expect(parseHistoryObjectKey(key.replace('.json', '/20261205T010203Z.json'))).toBeUndefined();
    expect(parseHistoryObjectKey('raw/coingecko/market_chart_range/notes.txt')).toBeUndefined();
  });

  it.each([
    [{}, true],
    [{ from: '2026-11-03' }, true],
    [{ from: '2026-11-04' }, false],
    [{ to: '2026-11-01' }, true],
    [{ to: '2026-10-31' }, false],
    [{ from: '2026-11-02', to: '2026-11-02' }, true],
  ])('range %j touches the chunk [11-01, 11-04): %s', (range, expected) => {
    expect(historyKeyInRange(parseHistoryObjectKey(historyObjectKey(CHUNK))!, range)).toBe(expected);
  });
});
