import { assertCadence, floorToSlot, runIdentity } from '../../../functions/src/core/run-identity.js';
import { failureObjectKey, rawObjectKey } from '../../../functions/src/core/lake-layout.js';

describe('run identity', () => {
  it('floors the scheduled time to the cadence in UTC', () => {
    expect(floorToSlot(new Date('2026-11-21T05:14:59.999Z'), 15).toISOString()).toBe(
      '2026-11-21T05:00:00.000Z',
    );
    expect(floorToSlot(new Date('2026-11-21T05:15:00Z'), 15).toISOString()).toBe('2026-11-21T05:15:00.000Z');
    expect(floorToSlot(new Date('2026-11-21T23:59:00Z'), 1440).toISOString()).toBe(
      '2026-11-21T00:00:00.000Z',
    );
  });

  it('gives retried and duplicated runs of one slot the same id', () => {
    const a = runIdentity(new Date('2026-11-21T05:00:03Z'), 'USD', 15);
    const b = runIdentity(new Date('2026-11-21T05:14:00Z'), 'usd', 15);
    expect(a.runId).toBe('coingecko_usd_20261121T050000Z');
    expect(b.runId).toBe(a.runId);
    expect(runIdentity(new Date('2026-11-21T05:15:00Z'), 'usd', 15).runId).not.toBe(a.runId);
  });

  it('accepts only cadences that tile a day', () => {
    expect(() => assertCadence(15)).not.toThrow();
    expect(() => assertCadence(7)).toThrow(/divides 1440/);
    expect(() => assertCadence(0)).toThrow();
    expect(() => assertCadence(1.5)).toThrow();
  });

  it('derives the Hive-style lake keys from the run', () => {
    const run = runIdentity(new Date('2026-11-21T05:07:00Z'), 'usd', 15);
    expect(rawObjectKey(run)).toBe(
      'raw/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/coingecko_usd_20261121T050000Z.json',
    );
    expect(failureObjectKey(run, new Date('2026-11-21T05:07:30Z'))).toBe(
      'failures/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/coingecko_usd_20261121T050000Z/20261121T050730Z.json',
    );
  });
});
