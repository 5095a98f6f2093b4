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

/**
 * Throws when a schedule fires more than once in a slot of the cadence: every fire in a slot is the
 * same run (the same run id), so the extra fires only spend API calls. The rule is the deploy
 * planner's (infra/planner.ts), so a schedule the twin accepts also deploys. Fires off the slot
 * boundaries are fine: `7 * * * *` runs the slot that starts at :00 (Cloud Scheduler does the same).
 */
export function assertScheduleFitsCadence(cron: string, cadenceMinutes: number, from: Date): void {
  const ms = cadenceMinutes * 60_000;
  const fires = nextFireTimes(cron, from, 200);
  const clash = fires.find(
    (t, i) => i > 0 && Math.floor(t.getTime() / ms) === Math.floor(fires[i - 1]!.getTime() / ms),
  );
  if (clash) {
    throw new Error(
      `schedule ${JSON.stringify(cron)} fires more than once in the ${cadenceMinutes}-minute slot of ${clash.toISOString()}; ` +
        `every fire in a slot is the same run. Use a schedule such as "*/${cadenceMinutes} * * * *" or a shorter --cadence`,
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
    await clock.sleep(Math.max(0, next!.getTime() - clock.now().getTime()), signal);
    if (signal.aborted) return;
    await tick(next!);
  }
}
