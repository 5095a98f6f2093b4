/**
 * Run identity (ARCHITECTURE.md §3): a run is its source, quote currency and slot, the scheduled
 * time floored to the cadence in UTC. Everything that must not happen twice (the raw object, the
 * BigQuery job ids, the warehouse rows) is named from it.
 */
export const SOURCE = 'coingecko';
export const ENDPOINT = 'coins_markets';

export interface RunIdentity {
  source: typeof SOURCE;
  vsCurrency: string;
  /** Start of the slot, UTC. */
  slot: Date;
  /** e.g. `coingecko_usd_20261121T050000Z`: safe as a file name, BigQuery job id and table suffix. */
  runId: string;
}

const MINUTES_PER_DAY = 24 * 60;

/** Cadences that tile a UTC day evenly, so slots line up with cron schedules such as `*\/15 * * * *`. */
export function assertCadence(cadenceMinutes: number): void {
  if (!Number.isInteger(cadenceMinutes) || cadenceMinutes < 1 || MINUTES_PER_DAY % cadenceMinutes !== 0) {
    throw new RangeError(
      `cadence must be a whole number of minutes that divides 1440, got ${cadenceMinutes}`,
    );
  }
}

/** Floors a time to the start of its slot. */
export function floorToSlot(time: Date, cadenceMinutes: number): Date {
  assertCadence(cadenceMinutes);
  const ms = cadenceMinutes * 60_000;
  const t = time.getTime();
  if (Number.isNaN(t)) throw new RangeError('invalid time');
  return new Date(Math.floor(t / ms) * ms);
}

/** `2026-11-21T05:00:00.000Z` -> `20261121T050000Z`. */
export function compactUtc(time: Date): string {
  return time
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

export function runIdentity(scheduledTime: Date, vsCurrency: string, cadenceMinutes: number): RunIdentity {
  const slot = floorToSlot(scheduledTime, cadenceMinutes);
  const currency = vsCurrency.toLowerCase();
  return { source: SOURCE, vsCurrency: currency, slot, runId: `${SOURCE}_${currency}_${compactUtc(slot)}` };
}

/** `YYYY-MM-DD` of a UTC time. */
export function utcDate(time: Date): string {
  return time.toISOString().slice(0, 10);
}
