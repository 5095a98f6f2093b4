import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { BigQueryScriptOnDuckDb } from '../support/bigquery-script-on-duckdb.js';
import { DAILY_DIR, requireCorpus } from '../support/corpus.js';
import { pageBatch } from '../support/load-order-scenarios.js';

/**
 * The quality checks on the real daily corpus: every data file loaded as one run, and the
 * contradictory-value warnings each run records compared with counts computed here, independently,
 * from the raw JSON (the corpus README lists such values: price above the all-time high, price
 * outside the 24h range, circulating above total supply). The freshness check's median is recomputed
 * too. Every 40th file also goes through BigQuery's SQL (executed offline), which must agree.
 */
requireCorpus();
const ERROR_FILE = 'markets_usd_top100_2023-03-30T00-54-42.json';
const FILES = readdirSync(DAILY_DIR)
  .filter((f) => f.endsWith('.json') && f !== ERROR_FILE)
  .sort();

type Raw = Record<string, unknown>;
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** What the contradiction checks should find in one response, computed straight from its JSON. */
function expectedCounts(records: readonly Raw[]) {
  let aboveAth = 0;
  let aboveTotal = 0;
  let outside = 0;
  for (const r of records) {
    const price = num(r.current_price);
    const ath = num(r.ath);
    const high = num(r.high_24h);
    const low = num(r.low_24h);
    const circulating = num(r.circulating_supply);
    const total = num(r.total_supply);
    if (price !== null && ath !== null && price > ath) aboveAth += 1;
    if (circulating !== null && total !== null && circulating > total) aboveTotal += 1;
    if (price !== null && ((high !== null && price > high) || (low !== null && price < low))) outside += 1;
  }
  return {
    price_above_ath: aboveAth,
    circulating_above_total_supply: aboveTotal,
    price_outside_24h_range: outside,
  };
}

/** The median age in seconds of the records' last_updated at the slot, or null. */
function medianAge(records: readonly Raw[], slot: Date): number | null {
  const ages = records
    .map((r) => (typeof r.last_updated === 'string' ? Date.parse(r.last_updated) : NaN))
    .filter((t) => !Number.isNaN(t))
    .map((t) => (slot.getTime() - t) / 1000)
    .sort((a, b) => a - b);
  if (ages.length === 0) return null;
  const mid = (ages.length - 1) / 2;
  return (ages[Math.floor(mid)]! + ages[Math.ceil(mid)]!) / 2;
}

/** The slot of a file: the commit time in its name, to the minute (the names are unique). */
function slotOf(file: string): Date {
  const m = /(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-\d\d\.json$/.exec(file);
  if (!m) throw new Error(`no time in ${file}`);
  return new Date(`${m[1]}T${m[2]}:${m[3]}:00Z`);
}

const CONTRADICTIONS = [
  'price_above_ath',
  'circulating_above_total_supply',
  'price_outside_24h_range',
] as const;

describe('quality checks over the real daily corpus', () => {
  test('count exactly the contradictory values the raw JSON holds, run by run, in both engines', async () => {
    const twin = await DuckDbWarehouse.open(':memory:');
    const script = await BigQueryScriptOnDuckDb.open();
    const totals = { price_above_ath: 0, circulating_above_total_supply: 0, price_outside_24h_range: 0 };
    const mismatches: string[] = [];
    let runsWarned = 0;
    try {
      for (const [i, file] of FILES.entries()) {
        const records = JSON.parse(readFileSync(join(DAILY_DIR, file), 'utf8')) as Raw[];
        const slot = slotOf(file);
        const batch = pageBatch(slot, records);
        const checks = (await twin.loadBatch(batch)).qualityChecks;
        const observed = Object.fromEntries(checks.map((c) => [c.check_name, c]));
        const expected = expectedCounts(records);
        for (const name of CONTRADICTIONS) {
          const check = observed[name];
          totals[name] += expected[name];
          if (check?.observed !== expected[name] || check.status !== (expected[name] > 0 ? 'fail' : 'pass')) {
            mismatches.push(
              `${file} ${name}: recorded ${check?.observed} (${check?.status}), JSON has ${expected[name]}`,
            );
          }
        }
        if (CONTRADICTIONS.some((name) => expected[name] > 0)) runsWarned += 1;
        const age = medianAge(records, slot);
        const freshness = observed.freshness?.observed ?? null;
        if (age === null ? freshness !== null : Math.abs((freshness ?? NaN) - age) > 1e-6) {
          mismatches.push(`${file} freshness: recorded ${freshness}, JSON gives ${age}`);
        }
        // Integrity holds on real data; every record is loaded (the corpus has no invalid one).
        for (const name of [
          'grain_unique',
          'keys_not_null',
          'asset_dimension',
          'date_dimension',
          'record_count',
        ]) {
          if (observed[name]?.status !== 'pass')
            mismatches.push(`${file} ${name}: ${observed[name]?.message}`);
        }
        if (i % 40 === 0) {
          await script.loadBatch(batch);
          const fromScript = await script.recordQualityChecks(batch);
          const strip = (rows: typeof checks) => rows.map(({ checked_at: _at, ...rest }) => rest);
          if (JSON.stringify(strip(fromScript)) !== JSON.stringify(strip(checks))) {
            mismatches.push(`${file}: BigQuery's checks differ from the twin's`);
          }
        }
      }
    } finally {
      await twin.close();
      script.close();
    }
    expect(mismatches).toEqual([]);
    expect(FILES).toHaveLength(1135);
    // The corpus does hold each kind of contradiction (its README says so); the totals are the JSON's.
    for (const name of CONTRADICTIONS) expect(totals[name]).toBeGreaterThan(0);
    expect(runsWarned).toBeGreaterThan(0);
    console.log(
      `contradictions in the corpus: ${JSON.stringify(totals)} over ${runsWarned} of ${FILES.length} runs`,
    );
  }, 600_000);
});
