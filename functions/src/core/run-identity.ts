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

const RUN_ID = /^coingecko_([a-z0-9]+)_(\d{8}T\d{6}Z)$/;

/** Parses a run id back into its parts; undefined when it is not one of ours. */
export function parseRunId(runId: string): { vsCurrency: string; slot: Date } | undefined {
  const m = RUN_ID.exec(runId);
  if (!m) return undefined;
  const c = m[2]!;
  const iso = `${c.slice(0, 4)}-${c.slice(4, 6)}-${c.slice(6, 8)}T${c.slice(9, 11)}:${c.slice(11, 13)}:${c.slice(13, 15)}Z`;
  const slot = new Date(iso);
  return Number.isNaN(slot.getTime()) ? undefined : { vsCurrency: m[1]!, slot };
}

/** `YYYY-MM-DD` of a UTC time. */
export function utcDate(time: Date): string {
  return time.toISOString().slice(0, 10);
}
