import type { StarBatch } from '../../functions/src/core/warehouse.js';
import { QUALITY_CHECKS } from '../../functions/src/quality/checks.js';
import type { QualityCheckRow } from '../../functions/src/schema/tables.js';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { BigQueryScriptOnDuckDb } from '../support/bigquery-script-on-duckdb.js';
import { pageBatch } from '../support/load-order-scenarios.js';
import { saneCoin } from '../support/sane-coin.js';

/**
 * The data-quality checks of both engines on the same batches: the twin's statement
 * (twin/src/adapters/duckdb-quality.ts, inside its load) and sql/quality/record_quality_checks.sql
 * executed offline after sql/load/merge_run.sql (tests/support/bigquery-script-on-duckdb.ts). Both
 * must write the catalogue's checks (functions/src/quality/checks.ts) with identical rows, and
 * each check must fail on the data it is about.
 */

const SLOT = new Date('2026-11-21T05:00:00Z');

/** A sane record, updated a minute before the slot. */
const coin = (id: string, over: Record<string, unknown> = {}) =>
  saneCoin(id, new Date(SLOT.getTime() - 60_000).toISOString(), over);

/** The rows as compared: without the time of the check, which each engine takes from its clock. */
const comparable = (rows: readonly QualityCheckRow[]) => rows.map(({ checked_at: _at, ...rest }) => rest);

/** Failed checks by name: `{ name: [severity, observed, message] }`. */
const failures = (rows: readonly QualityCheckRow[]) =>
  Object.fromEntries(
    rows.filter((r) => r.status === 'fail').map((r) => [r.check_name, [r.severity, r.observed, r.message]]),
  );

let twin: DuckDbWarehouse;
let script: BigQueryScriptOnDuckDb;
beforeEach(async () => {
  twin = await DuckDbWarehouse.open(':memory:');
  script = await BigQueryScriptOnDuckDb.open();
});
afterEach(async () => {
  await twin.close();
  script.close();
});

/** Loads a batch into both engines and returns the checks, after requiring them to be equal. */
async function checkBoth(batch: StarBatch): Promise<QualityCheckRow[]> {
  const fromTwin = (await twin.loadBatch(batch)).qualityChecks;
  await script.loadBatch(batch);
  const fromScript = await script.recordQualityChecks(batch);
  expect(comparable(fromScript)).toEqual(comparable(fromTwin));
  return fromTwin;
}

describe('quality checks in both engines', () => {
  test('a sane run passes every check of the catalogue, with the catalogue severities', async () => {
    const rows = await checkBoth(pageBatch(SLOT, [coin('bitcoin'), coin('ethereum')]));
    expect(rows.map((r) => [r.check_name, r.severity])).toEqual(
      QUALITY_CHECKS.map((c) => [c.name, c.severity]),
    );
    expect(rows.every((r) => r.status === 'pass' && r.run_id === 'coingecko_usd_20261121T050000Z')).toBe(
      true,
    );
    expect(rows.find((r) => r.check_name === 'freshness')).toMatchObject({
      observed: 60,
      expected: 3600,
      message: 'median last_updated 60 s before the slot (bound 3600 s)',
    });
    expect(rows.find((r) => r.check_name === 'record_count')?.message).toBe('2 of 2 expected coin(s) loaded');
  });

  test('contradictory values, stale data and rejected records are warnings, counted', async () => {
    const stale = new Date(SLOT.getTime() - 5 * 3600_000).toISOString();
    const rows = await checkBoth(
      pageBatch(SLOT, [
        coin('above-ath', { current_price: 250, ath: 200, last_updated: stale }),
        coin('over-supply', { circulating_supply: 3000, total_supply: 2000, last_updated: stale }),
        coin('under-range', { current_price: 80, last_updated: stale }),
        coin('over-range', { current_price: 120, ath: 100, last_updated: stale }),
        coin('no-total', { total_supply: null, high_24h: null, low_24h: null, ath: null }),
        { id: 42 },
      ]),
    );
    expect(failures(rows)).toEqual({
      price_above_ath: ['warning', 2, '2 of 5 coin(s) priced above their all-time high'],
      circulating_above_total_supply: [
        'warning',
        1,
        '1 of 5 coin(s) with a circulating supply above the total supply',
      ],
      // above-ath is above its 24h high too.
      price_outside_24h_range: ['warning', 3, '3 of 5 coin(s) priced outside their 24h low-high range'],
      freshness: ['warning', 18_000, 'median last_updated 18000 s before the slot (bound 3600 s)'],
      rejected_records: ['warning', 1, '1 of 6 record(s) rejected (see ops_rejected_record)'],
      record_count: ['warning', 5, '5 of 6 expected coin(s) loaded'],
    });
  });

  test('an empty [] response is a warning, not a healthy run', async () => {
    const rows = await checkBoth({ ...pageBatch(SLOT, []), expectedRecords: 250 });
    expect(failures(rows)).toEqual({
      record_count: ['warning', 0, 'empty response ([]): no coins, 250 expected'],
    });
    expect(rows.find((r) => r.check_name === 'freshness')?.message).toBe('no last_updated to measure');
  });

  test('fewer coins than COIN_LIMIT is a warning', async () => {
    // Updated after the slot began (the run fetched later in its slot): fresh.
    const later = new Date(SLOT.getTime() + 90_000).toISOString();
    const rows = await checkBoth({
      ...pageBatch(SLOT, [coin('bitcoin', { last_updated: later })]),
      expectedRecords: 100,
    });
    expect(failures(rows)).toEqual({ record_count: ['warning', 1, '1 of 100 expected coin(s) loaded'] });
    expect(rows.find((r) => r.check_name === 'freshness')).toMatchObject({
      status: 'pass',
      observed: -90,
      message: 'median last_updated 90 s after the slot start (bound 3600 s)',
    });
  });

  test('fact rows without their dimension rows are errors', async () => {
    const batch = pageBatch(SLOT, [coin('bitcoin'), coin('ethereum'), coin('solana')]);
    // A transform that loses dimension rows: the fact must not be trusted.
    const broken = {
      ...batch,
      assetCandidates: batch.assetCandidates.filter((a) => a.coin_id !== 'ethereum'),
      dates: [],
    };
    expect(failures(await checkBoth(broken))).toEqual({
      asset_dimension: ['error', 1, '1 fact row(s) without a dim_asset version in effect at their slot'],
      date_dimension: ['error', 3, '3 fact row(s) whose date_key is missing from dim_date'],
    });
  });

  test('a redelivered load does not double the check rows, in either engine', async () => {
    const batch = pageBatch(SLOT, [coin('bitcoin', { current_price: 999 })]);
    const first = await checkBoth(batch);
    const again = await checkBoth(batch);
    expect(comparable(again)).toEqual(comparable(first));
    expect(again.map((r) => r.checked_at)).toEqual(first.map((r) => r.checked_at));
    const count = 'select count(*) as n from ops_quality_check';
    expect(await twin.query(count)).toEqual([{ n: QUALITY_CHECKS.length }]);
    expect(await script.query(count)).toEqual([{ n: QUALITY_CHECKS.length }]);
  });
});

describe('BigQuery: a run merged whose quality job failed (the checks are a job of their own)', () => {
  test('get_quality_checks.sql finds none; recording them later writes them once, as the twin has them', async () => {
    // Another run, checked: its rows are not this run's.
    const other = pageBatch(new Date(SLOT.getTime() - 3600_000), [coin('bitcoin')]);
    await script.loadBatch(other);
    await script.recordQualityChecks(other);
    const batch = pageBatch(SLOT, [coin('bitcoin', { current_price: 999 }), coin('ether')]);
    await script.loadBatch(batch);
    expect(await script.getQualityChecks(batch.runId)).toEqual([]);

    const recorded = await script.recordQualityChecks(batch);
    expect(recorded.map((r) => r.check_name)).toEqual(QUALITY_CHECKS.map((c) => c.name));
    expect(await script.getQualityChecks(batch.runId)).toEqual(recorded);
    // The redelivery's merge job is adopted in BigQuery; here it runs again and inserts nothing.
    await script.loadBatch(batch);
    const later = new Date(batch.loadStartedAt.getTime() + 600_000);
    expect(await script.recordQualityChecks(batch, later)).toEqual(recorded);
    expect(await script.query('select count(*) as n from ops_quality_check')).toEqual([
      { n: 2 * QUALITY_CHECKS.length },
    ]);
    expect(comparable(recorded)).toEqual(comparable((await twin.loadBatch(batch)).qualityChecks));
  });
});

describe('the integrity checks BigQuery needs (it enforces no keys; DuckDB refuses such rows)', () => {
  test('a repeated grain and a null key are errors', async () => {
    const batch = pageBatch(SLOT, [coin('bitcoin'), coin('ethereum')]);
    await script.loadBatch(batch);
    // What a MERGE fed a staging table with a repeated grain, or a schema drift, could leave behind.
    await script.query(
      `insert into fact_market_snapshot select * from fact_market_snapshot where coin_id = 'bitcoin'`,
    );
    await script.query('alter table fact_market_snapshot alter column coin_id drop not null');
    await script.query(`update fact_market_snapshot set coin_id = null where coin_id = 'ethereum'`);
    expect(failures(await script.recordQualityChecks(batch))).toEqual({
      grain_unique: ['error', 1, '1 fact row(s) repeat an asset, currency and slot'],
      keys_not_null: ['error', 1, '1 fact row(s) with a null key'],
    });
  });
});
