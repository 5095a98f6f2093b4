import { CronExpressionParser } from 'cron-parser';
import type { Clock } from '../../functions/src/core/ports.js';

/**
 * The twin's Cloud Scheduler: the same unix-cron syntax, evaluated in UTC (the infra creates the
 * job with time zone Etc/UTC), calling `tick` with each scheduled time, as Cloud Scheduler sends it
 * in the X-CloudScheduler-ScheduleTime header.
 */
export function nextFireTimes(cron: string, after: Date, count: number): Date[] {
  let expression;
  try {
    expression = CronExpressionParser.parse(cron, { tz: 'UTC', currentDate: after });
  } catch (e) {
    throw new Error(`invalid cron schedule ${JSON.stringify(cron)}: ${(e as Error).message}`, { cause: e });
  }
  return Array.from({ length: count }, () => expression.next().toDate());
}

/** Throws when a schedule fires off the cadence's slot boundaries (two fires would share a run id). */
export function assertScheduleFitsCadence(cron: string, cadenceMinutes: number, from: Date): void {
  const ms = cadenceMinutes * 60_000;
  const off = nextFireTimes(cron, from, 24).find((t) => t.getTime() % ms !== 0);
  if (off) {
    throw new Error(
      `schedule ${JSON.stringify(cron)} fires at ${off.toISOString()}, which is not on a ${cadenceMinutes}-minute slot boundary; ` +
        `use a schedule such as "*/${cadenceMinutes} * * * *" or change --cadence`,
    );
  }
}

export interface ScheduleOptions {
  cron: string;
  clock: Clock;
  signal: AbortSignal;
  tick: (scheduledTime: Date) => Promise<void>;
}

/** Runs `tick` at every fire time until `signal` aborts; ticks never overlap (a late tick runs late). */
export async function runOnSchedule({ cron, clock, signal, tick }: ScheduleOptions): Promise<void> {
  while (!signal.aborted) {
    const [next] = nextFireTimes(cron, clock.now(), 1);
    const wait = next!.getTime() - clock.now().getTime();
    const fired = await sleepUnlessAborted(clock, Math.max(0, wait), signal);
    if (!fired) return;
    await tick(next!);
  }
}

function sleepUnlessAborted(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    clock.sleep(ms).then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(!signal.aborted);
    });
  });
}
