import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { floorToSlot } from '../../functions/src/core/run-identity.js';
import type { DuckDbWarehouse } from './adapters/duckdb-warehouse.js';
import { nextFireTimes } from './scheduler.js';

/**
 * Missed slots. A `start` killed before its lake write (or a laptop asleep) leaves a slot with no
 * run at all, so nothing in the run table says it is missing. `start` records the schedule it keeps
 * here; `status` compares that schedule's fire times with the runs that exist.
 */
export interface ScheduleRecord {
  schedule: string;
  cadenceMinutes: number;
  /** When `start` began keeping this schedule: no slot before it is expected. */
  since: string;
  /**
   * The quote currencies `start` runs each slot for: a slot with a `usd` run but no `eur` run is a
   * gap. Absent in records written before several currencies, where any run fills its slot.
   */
  currencies?: string[];
}

export const scheduleRecordPath = (dataDir: string) => join(dataDir, 'schedule.json');

export function readScheduleRecord(dataDir: string): ScheduleRecord | undefined {
  try {
    const value = JSON.parse(readFileSync(scheduleRecordPath(dataDir), 'utf8')) as Partial<ScheduleRecord>;
    if (typeof value.schedule !== 'string' || typeof value.cadenceMinutes !== 'number') return undefined;
    if (typeof value.since !== 'string' || Number.isNaN(Date.parse(value.since))) return undefined;
    const { currencies } = value;
    if (
      currencies !== undefined &&
      !(Array.isArray(currencies) && currencies.every((c) => typeof c === 'string'))
    ) {
      return undefined;
    }
    return value as ScheduleRecord;
  } catch {
    return undefined;
  }
}

/**
 * Records the schedule `start` keeps; restarting with the same schedule and currencies keeps the
 * original start (a currency added today is not expected for last week's slots).
 */
export function recordSchedule(
  dataDir: string,
  schedule: string,
  cadenceMinutes: number,
  currencies: readonly string[],
  now: Date,
): void {
  const previous = readScheduleRecord(dataDir);
  const same =
    previous?.schedule === schedule &&
    previous.cadenceMinutes === cadenceMinutes &&
    previous.currencies?.join(',') === currencies.join(',');
  const record: ScheduleRecord = {
    schedule,
    cadenceMinutes,
    since: same ? previous.since : now.toISOString(),
    currencies: [...currencies],
  };
  writeFileSync(scheduleRecordPath(dataDir), `${JSON.stringify(record, null, 2)}\n`);
}

export interface Gaps {
  schedule: string;
  cadenceMinutes: number;
  /** The window checked: from the record's start (at most `windowDays` back) to now. */
  from: string;
  /** Slots times currencies: each currency's run of a slot is expected. */
  expectedSlots: number;
  missingSlots: number;
  /** The newest missing slots, newest first (at most `listed`); `slot (currency)` with several. */
  recent: string[];
}

/** What identifies a run for the gap check: its slot, and its currency when the record names them. */
export const runKey = (slotMs: number, currency?: string) =>
  currency === undefined ? String(slotMs) : `${slotMs} ${currency}`;

const WINDOW_DAYS = 7;

/**
 * Slots the schedule fired for (over the last week at most) that have no run, per currency when the
 * record names them. `runs` holds `runKey`s of both kinds. A slot counts only once it is over: the
 * run for the current slot may still be on its way.
 */
export function findGaps(record: ScheduleRecord, runs: ReadonlySet<string>, now: Date, listed = 5): Gaps {
  const slotMs = record.cadenceMinutes * 60_000;
  const from = new Date(Math.max(Date.parse(record.since), now.getTime() - WINDOW_DAYS * 86_400_000));
  const expected = new Set<number>();
  let cursor = new Date(from.getTime() - 1);
  // Bounded walk: a week of minute-by-minute fires is ~10k, computed in batches.
  for (let batch = 0; batch < 40; batch += 1) {
    const fires = nextFireTimes(record.schedule, cursor, 500);
    for (const fire of fires) {
      if (fire.getTime() + slotMs > now.getTime()) return summarise();
      expected.add(floorToSlot(fire, record.cadenceMinutes).getTime());
    }
    cursor = fires.at(-1)!;
  }
  return summarise();

  function summarise(): Gaps {
    const currencies: (string | undefined)[] = record.currencies?.length ? record.currencies : [undefined];
    const several = currencies.length > 1;
    const missing = [...expected]
      .sort((a, b) => b - a)
      .flatMap((slot) => currencies.filter((c) => !runs.has(runKey(slot, c))).map((c) => ({ slot, c })));
    return {
      schedule: record.schedule,
      cadenceMinutes: record.cadenceMinutes,
      from: from.toISOString(),
      expectedSlots: expected.size * currencies.length,
      missingSlots: missing.length,
      recent: missing
        .slice(0, listed)
        .map(({ slot, c }) => new Date(slot).toISOString() + (several && c !== undefined ? ` (${c})` : '')),
    };
  }
}

/** The gaps of the schedule recorded in `dataDir` against the runs in `warehouse`; null without one. */
export async function gapsInWarehouse(
  warehouse: Pick<DuckDbWarehouse, 'query'>,
  dataDir: string,
  now: Date,
): Promise<Gaps | null> {
  const record = readScheduleRecord(dataDir);
  if (!record) return null;
  const rows = await warehouse.query('select slot_ts, vs_currency from ops_run');
  const runs = new Set<string>();
  for (const row of rows) {
    const slot = (row.slot_ts as Date).getTime();
    runs.add(runKey(slot)).add(runKey(slot, row.vs_currency as string));
  }
  return findGaps(record, runs, now);
}
