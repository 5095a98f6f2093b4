import { DEFAULT_BACKOFF, fullJitterDelay, parseRetryAfter } from '../../../functions/src/extract/backoff.js';

describe('fullJitterDelay', () => {
  it('stays below base * 2^(n-1) and reaches close to it with random near 1', () => {
    expect(fullJitterDelay(1, () => 0.999)).toBe(999);
    expect(fullJitterDelay(2, () => 0.999)).toBe(1998);
    expect(fullJitterDelay(3, () => 0.5)).toBe(2000);
    expect(fullJitterDelay(1, () => 0)).toBe(0);
  });

  it('never exceeds the cap however many attempts failed', () => {
    expect(fullJitterDelay(6, () => 0.999)).toBe(29_970);
    expect(fullJitterDelay(50, () => 0.999)).toBe(29_970);
    expect(fullJitterDelay(1_000, () => 1)).toBe(DEFAULT_BACKOFF.capMs);
  });

  it('honours a custom policy and clamps a misbehaving random source', () => {
    expect(fullJitterDelay(3, () => 0.5, { baseMs: 100, capMs: 250 })).toBe(125);
    expect(fullJitterDelay(2, () => 7)).toBe(2000);
    expect(fullJitterDelay(2, () => -1)).toBe(0);
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2026-11-21T05:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 60 ', now)).toBe(60_000);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter(['2', '9'], now)).toBe(2000);
  });

  it('treats 0, absent and unparsable values as no hint', () => {
    expect(parseRetryAfter('0', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    // V8's Date.parse would accept this as a date; the strict HTTP-date shapes do not.
    expect(parseRetryAfter('soon 5', now)).toBeUndefined();
  });

  it('reads the three HTTP-date forms relative to now', () => {
    expect(parseRetryAfter('Sat, 21 Nov 2026 05:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Saturday, 21-Nov-26 05:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sat Nov 21 05:01:00 2026', now)).toBe(60_000);
  });

  it('treats a date in the past as no hint', () => {
    expect(parseRetryAfter('Sat, 21 Nov 2026 04:59:00 GMT', now)).toBeUndefined();
    expect(parseRetryAfter('Sat, 21 Nov 2026 05:00:00 GMT', now)).toBeUndefined();
  });
});
