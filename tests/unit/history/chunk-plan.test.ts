import {
  BackfillPlanError,
  historyChunkId,
  planBackfill,
  type BackfillRequest,
} from '../../../functions/src/history/chunk-plan.js';
import { historyObjectKey } from '../../../functions/src/history/lake-keys.js';

const DAY = 86_400_000;
const NOW = new Date('2026-12-05T09:30:00Z');
const base: BackfillRequest = {
  plan: 'demo',
  coinIds: ['bitcoin', 'ethereum'],
  vsCurrencies: ['usd'],
  from: new Date('2026-06-01T00:00:00Z'),
  to: new Date('2026-12-01T00:00:00Z'),
  granularity: 'daily',
  now: NOW,
};

describe('planBackfill: chunks the plan allows', () => {
  test('daily: one chunk per coin up to 365 days, half-open and contiguous', () => {
    const plan = planBackfill(base);
    expect(plan.chunks.map((c) => [c.coinId, c.from.toISOString(), c.to.toISOString()])).toEqual([
      ['bitcoin', '2026-06-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
      ['ethereum', '2026-06-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ]);
    expect(plan.calls).toBe(2);
  });

  test('hourly: chunks of at most 90 days (CoinGecko answers longer ranges daily)', () => {
    const plan = planBackfill({ ...base, coinIds: ['bitcoin'], granularity: 'hourly' });
    const spans = plan.chunks.map((c) => (c.to.getTime() - c.from.getTime()) / DAY);
    expect(spans).toEqual([90, 90, 3]);
    for (let i = 1; i < plan.chunks.length; i++) expect(plan.chunks[i]!.from).toEqual(plan.chunks[i - 1]!.to);
  });

  test('the same request gives the same chunk ids and lake keys (the lake is the checkpoint)', () => {
    const [a] = planBackfill(base).chunks;
    const [b] = planBackfill({ ...base, now: new Date(NOW.getTime() + 3_600_000) }).chunks;
    expect(a!.chunkId).toBe('bitcoin_usd_daily_20260601T000000Z_20261201T000000Z');
    expect(b!.chunkId).toBe(a!.chunkId);
    expect(historyObjectKey(a!)).toBe(
      'raw/coingecko/market_chart_range/vs_currency=usd/coin_id=bitcoin/granularity=daily/bitcoin_usd_daily_20260601T000000Z_20261201T000000Z.json',
    );
    expect(historyChunkId({ ...a!, granularity: 'hourly' })).not.toBe(a!.chunkId);
  });

  test('a range reaching into the future ends now', () => {
    const plan = planBackfill({ ...base, to: new Date('2027-01-01T00:00:00Z') });
    expect(plan.chunks[0]!.to).toEqual(NOW);
  });

  test('--top pages count as calls', () => {
    expect(planBackfill({ ...base, extraCalls: 1 }).calls).toBe(3);
  });
});

describe('planBackfill refuses what the plan cannot serve, before any call', () => {
  test.each<[string, Partial<BackfillRequest>, RegExp]>([
    [
      'beyond the 365-day window of the demo plan',
      { from: new Date('2025-01-01T00:00:00Z') },
      /demo plan serves about the last 365 days of history: --from 2025-01-01 is before 2025-12-05 .*10012.*--from 2025-12-06/,
    ],
    [
      'beyond the keyless window too',
      { plan: 'keyless', from: new Date('2024-01-01T00:00:00Z') },
      /keyless plan serves about the last 365 days/,
    ],
    [
      'over the monthly call budget',
      {
        coinIds: Array.from({ length: 2_600 }, (_, i) => `coin-${i}`),
        granularity: 'hourly',
        from: new Date('2026-01-01T00:00:00Z'),
      },
      /demo plan monthly budget exceeded: 2600 coin\(s\) .*\(hourly\) = 10,400 calls > 10,000 calls per month/,
    ],
    ['a rate above the plan', { callsPerMinute: 31 }, /31 is above the demo plan's 30 calls per minute/],
    ['a from in the future', { from: new Date('2027-01-01T00:00:00Z') }, /is not in the past/],
    ['an empty range', { to: new Date('2026-06-01T00:00:00Z') }, /must come before --to/],
    ['no coins', { coinIds: [] }, /no coins to backfill/],
    ['a symbol instead of an id', { coinIds: ['BTC'] }, /"BTC" is not a CoinGecko coin id/],
  ])('%s', (_what, change, message) => {
    expect(() => planBackfill({ ...base, ...change })).toThrow(BackfillPlanError);
    expect(() => planBackfill({ ...base, ...change })).toThrow(message);
  });

  test('two quote currencies: a chunk series per coin and currency, twice the calls', () => {
    const one = planBackfill(base);
    const two = planBackfill({ ...base, vsCurrencies: ['usd', 'eur', 'usd'] });
    expect(two.chunks).toHaveLength(2 * one.chunks.length);
    expect(two.calls).toBe(2 * one.calls);
    expect(two.chunks.filter((c) => c.vsCurrency === 'eur').map((c) => c.chunkId)).toEqual(
      one.chunks.map((c) => c.chunkId.replace('_usd_', '_eur_')),
    );
    expect(() => planBackfill({ ...base, vsCurrencies: ['usd', 'EUR'] })).toThrow(/got "EUR"/);
  });

  test('pro has no history window', () => {
    expect(planBackfill({ ...base, plan: 'pro', from: new Date('2020-01-01T00:00:00Z') }).chunks.length).toBe(
      2 * Math.ceil((Date.parse('2026-12-01') - Date.parse('2020-01-01')) / (365 * DAY)),
    );
  });
});
