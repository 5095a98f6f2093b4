import type { Clock } from '../../../functions/src/core/ports.js';
import { createThrottle } from '../../../functions/src/extract/throttle.js';

/** Time moves only when something sleeps, so the recorded sleeps are the whole story. */
function fakeClock(
  startMs = Date.parse('2026-11-21T05:00:00Z'),
): Clock & { sleeps: number[]; advance(ms: number): void } {
  let t = startMs;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => new Date(t),
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

describe('createThrottle', () => {
  it('lets the first request start at once and spaces the next ones by the interval', async () => {
    const clock = fakeClock();
    const throttle = createThrottle(2000, clock);
    const starts: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      await throttle.acquire();
      starts.push(clock.now().getTime());
    }
    expect(clock.sleeps).toEqual([2000, 2000]);
    expect(starts[1]! - starts[0]!).toBe(2000);
    expect(starts[2]! - starts[1]!).toBe(2000);
  });

  it('only waits for what is left of the interval', async () => {
    const clock = fakeClock();
    const throttle = createThrottle(12_000, clock);
    await throttle.acquire();
    clock.advance(5000);
    expect(throttle.pendingMs()).toBe(7000);
    await throttle.acquire();
    expect(clock.sleeps).toEqual([7000]);
    clock.advance(20_000);
    expect(throttle.pendingMs()).toBe(0);
    await throttle.acquire();
    expect(clock.sleeps).toEqual([7000]);
  });

  it('serialises concurrent callers so they share one pace', async () => {
    const clock = fakeClock();
    const throttle = createThrottle(1000, clock);
    const starts: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map(async () => {
        await throttle.acquire();
        starts.push(clock.now().getTime());
      }),
    );
    const t0 = starts[0]!;
    expect(starts.map((s) => s - t0)).toEqual([0, 1000, 2000, 3000]);
  });

  it('keeps working after a sleep fails', async () => {
    let fail = true;
    let t = 0;
    const clock: Clock = {
      now: () => new Date(t),
      sleep: async (ms) => {
        if (fail) {
          fail = false;
          throw new Error('timer broke');
        }
        t += ms;
      },
    };
    const throttle = createThrottle(1000, clock);
    await throttle.acquire();
    await expect(throttle.acquire()).rejects.toThrow('timer broke');
    await throttle.acquire();
    expect(t).toBe(1000);
  });

  it('rejects a negative or non-finite interval', () => {
    expect(() => createThrottle(-1, fakeClock())).toThrow(RangeError);
    expect(() => createThrottle(Number.NaN, fakeClock())).toThrow(RangeError);
  });
});
