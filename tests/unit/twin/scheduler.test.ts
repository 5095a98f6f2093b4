import { systemClock, type Clock } from '../../../functions/src/core/ports.js';
import { assertScheduleFitsCadence, nextFireTimes, runOnSchedule } from '../../../twin/src/scheduler.js';

/** A clock whose sleep advances time instantly. */
function fakeClock(start: string): Clock & { slept: number[] } {
  let now = new Date(start).getTime();
  const slept: number[] = [];
  return {
    slept,
    now: () => new Date(now),
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('twin scheduler', () => {
  it('evaluates unix-cron in UTC like Cloud Scheduler', () => {
    expect(
      nextFireTimes('*/15 * * * *', new Date('2026-11-21T05:07:00Z'), 3).map((d) => d.toISOString()),
    ).toEqual(['2026-11-21T05:15:00.000Z', '2026-11-21T05:30:00.000Z', '2026-11-21T05:45:00.000Z']);
    expect(nextFireTimes('0 9 * * 1', new Date('2026-11-21T00:00:00Z'), 1)[0]!.toISOString()).toBe(
      '2026-11-23T09:00:00.000Z',
    );
    expect(() => nextFireTimes('every hour', new Date(), 1)).toThrow(/invalid cron schedule "every hour"/);
  });

  it('accepts a schedule that fires at most once per slot, on the boundary or not', () => {
    expect(() => assertScheduleFitsCadence('*/15 * * * *', 15, new Date())).not.toThrow();
    expect(() => assertScheduleFitsCadence('0 * * * *', 15, new Date())).not.toThrow();
    expect(() => assertScheduleFitsCadence('7 * * * *', 15, new Date())).not.toThrow();
    expect(() => assertScheduleFitsCadence('*/10 * * * *', 15, new Date())).toThrow(
      /fires more than once in the 15-minute slot/,
    );
    expect(() => assertScheduleFitsCadence('* * * * *', 15, new Date())).toThrow(/more than once/);
  });

  it('stops sleeping, and clears its timer, the moment it is aborted', async () => {
    const controller = new AbortController();
    const armed: { delay: number; cleared: boolean; handle: unknown }[] = [];
    const { setTimeout: realSet, clearTimeout: realClear } = globalThis;
    const spySet = ((fn: () => void, delay: number) => {
      const handle = realSet(fn, delay);
      armed.push({ delay, cleared: false, handle });
      return handle;
    }) as typeof setTimeout;
    globalThis.setTimeout = spySet;
    globalThis.clearTimeout = ((handle: NodeJS.Timeout) => {
      for (const a of armed) if (a.handle === handle) a.cleared = true;
      realClear(handle);
    }) as typeof clearTimeout;
    let woke = false;
    let sleeping: Promise<unknown>;
    try {
      // 30 days: beyond setTimeout's 2^31-1 ms, which would otherwise fire at once.
      sleeping = systemClock.sleep(30 * 86_400_000, controller.signal).then(() => (woke = true));
    } finally {
      globalThis.setTimeout = realSet;
    }
    try {
      await new Promise((r) => setTimeout(r, 50));
      expect(woke).toBe(false);
      expect(armed.map((a) => a.delay)).toEqual([2 ** 31 - 1]);
    } finally {
      controller.abort();
      await sleeping;
      globalThis.clearTimeout = realClear;
    }
    // A timer left armed would keep `start` alive after Ctrl-C until it fired.
    expect(armed.every((a) => a.cleared)).toBe(true);
  });

  it('ticks at each fire time, never overlapping, until aborted', async () => {
    const clock = fakeClock('2026-11-21T05:07:00Z');
    const controller = new AbortController();
    const ticks: string[] = [];
    await runOnSchedule({
      cron: '*/15 * * * *',
      clock,
      signal: controller.signal,
      tick: async (time) => {
        ticks.push(time.toISOString());
        await clock.sleep(60_000); // a run takes a minute
        if (ticks.length === 3) controller.abort();
      },
    });
    expect(ticks).toEqual([
      '2026-11-21T05:15:00.000Z',
      '2026-11-21T05:30:00.000Z',
      '2026-11-21T05:45:00.000Z',
    ]);
    expect(clock.slept).toEqual([480_000, 60_000, 840_000, 60_000, 840_000, 60_000]);
  });
});
