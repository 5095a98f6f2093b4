import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  findGaps,
  gapsInWarehouse,
  readScheduleRecord,
  recordSchedule,
  runKey,
  scheduleRecordPath,
  type ScheduleRecord,
} from '../../../twin/src/schedule-gaps.js';

/** Missed slots per quote currency: a slot with a `usd` run but no `eur` run is a gap. */
const HOUR = 3_600_000;
const base = Math.floor(Date.parse('2026-12-05T12:30:00Z') / HOUR) * HOUR;
const now = new Date(base + 30 * 60_000);
const at = (hoursAgo: number) => base - hoursAgo * HOUR;
const iso = (hoursAgo: number) => new Date(at(hoursAgo)).toISOString();
const hourly = (currencies?: string[]): ScheduleRecord => ({
  schedule: '0 * * * *',
  cadenceMinutes: 60,
  since: iso(5),
  ...(currencies ? { currencies } : {}),
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'cmp-gaps-unit-'));
  dirs.push(d);
  return d;
};

describe('findGaps', () => {
  it('expects every currency of the record in every slot, and names the currency missing', () => {
    const runs = new Set([runKey(at(4), 'usd'), runKey(at(4), 'eur'), runKey(at(2), 'usd')]);

    const gaps = findGaps(hourly(['usd', 'eur']), runs, now);

    // Slots 5..1 hours ago (the current one is not over): 5 slots x 2 currencies.
    expect(gaps).toMatchObject({ expectedSlots: 10, missingSlots: 7 });
    expect(gaps.recent).toEqual([
      `${iso(1)} (usd)`,
      `${iso(1)} (eur)`,
      `${iso(2)} (eur)`,
      `${iso(3)} (usd)`,
      `${iso(3)} (eur)`,
    ]);
  });

  it('with one currency, lists bare slots as before', () => {
    const runs = new Set([runKey(at(4), 'usd'), runKey(at(2), 'usd')]);

    const gaps = findGaps(hourly(['usd']), runs, now);

    expect(gaps).toMatchObject({ expectedSlots: 5, missingSlots: 3, recent: [iso(1), iso(3), iso(5)] });
  });

  it('lets any run fill its slot for a record written before currencies were kept', () => {
    const runs = new Set([runKey(at(4)), runKey(at(2))]);

    expect(findGaps(hourly(), runs, now)).toMatchObject({ expectedSlots: 5, missingSlots: 3 });
  });
});

describe('gapsInWarehouse', () => {
  it("reads each run's slot and currency from ops_run", async () => {
    const dataDir = tempDir();
    recordSchedule(dataDir, '0 * * * *', 60, ['usd', 'eur'], new Date(at(5)));
    const warehouse = {
      query: (sql: string) => {
        expect(sql).toContain('vs_currency');
        return Promise.resolve([
          { slot_ts: new Date(at(3)), vs_currency: 'usd' },
          { slot_ts: new Date(at(3)), vs_currency: 'eur' },
          { slot_ts: new Date(at(1)), vs_currency: 'eur' },
        ]);
      },
    };

    const gaps = await gapsInWarehouse(warehouse, dataDir, now);

    expect(gaps).toMatchObject({ expectedSlots: 10, missingSlots: 7 });
    expect(gaps!.recent[0]).toBe(`${iso(1)} (usd)`);
  });
});

describe('recordSchedule', () => {
  it('keeps the original start for the same schedule and currencies, and starts over when they change', () => {
    const dataDir = tempDir();
    recordSchedule(dataDir, '0 * * * *', 60, ['usd'], new Date(at(5)));
    recordSchedule(dataDir, '0 * * * *', 60, ['usd'], new Date(at(1)));
    expect(readScheduleRecord(dataDir)).toEqual({ ...hourly(['usd']), since: iso(5) });

    // eur was not expected before today's start: last week's slots have no eur gaps.
    recordSchedule(dataDir, '0 * * * *', 60, ['usd', 'eur'], new Date(at(1)));
    expect(readScheduleRecord(dataDir)).toEqual({ ...hourly(['usd', 'eur']), since: iso(1) });
  });

  it('ignores a record whose currencies are not a list of codes (edited by hand)', () => {
    const dataDir = tempDir();
    writeFileSync(scheduleRecordPath(dataDir), JSON.stringify({ ...hourly(), currencies: 'usd' }));

    expect(readScheduleRecord(dataDir)).toBeUndefined();
  });
});
