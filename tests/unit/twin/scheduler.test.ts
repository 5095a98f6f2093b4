import type { Clock } from '../../../functions/src/core/ports.js';
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

  it('refuses a schedule that fires off the slot boundaries', () => {
    expect(() => assertScheduleFitsCadence('*/15 * * * *', 15, new Date())).not.toThrow();
    expect(() => assertScheduleFitsCadence('0 * * * *', 15, new Date())).not.toThrow();
    expect(() => assertScheduleFitsCadence('*/10 * * * *', 15, new Date())).toThrow(
      /not on a 15-minute slot boundary/,
    );
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
