import type { StarBatch } from '../../functions/src/core/warehouse.js';
import type { RunRow } from '../../functions/src/schema/tables.js';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { BigQueryScriptOnDuckDb, splitScript } from '../support/bigquery-script-on-duckdb.js';
import {
  expectedAssetVersions,
  marketBatch,
  randomHistory,
  seededRandom,
  shuffled,
} from '../support/load-order-scenarios.js';

/**
 * sql/load/merge_run.sql executed (translated to DuckDB mechanically, see the support module) on
 * the same batches as the twin's DuckDbWarehouse: both engines must leave identical tables, with
 * the order-independent type 2 history and the run-record guard. Each test loads both engines.
 */

/** Every table, every column, in key order; ops_run without the two "now" timestamps. */
const SNAPSHOT_QUERIES = {
  dim_asset: 'select * from dim_asset order by asset_key, valid_from',
  dim_date: 'select * from dim_date order by date_key',
  fact_market_snapshot: 'select * from fact_market_snapshot order by asset_key, vs_currency, slot_ts',
  ops_rejected_record: 'select * from ops_rejected_record order by run_id, record_index',
  ops_run: 'select * exclude (load_finished_at, updated_at) from ops_run order by run_id',
};

async function tablesOf(query: (sql: string) => Promise<Record<string, unknown>[]>) {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const [table, sql] of Object.entries(SNAPSHOT_QUERIES)) out[table] = await query(sql);
  return out;
}

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

/** Loads a batch into both engines; their outcomes must agree. */
async function loadBoth(batch: StarBatch) {
  const fromTwin = await twin.loadBatch(batch);
  const fromScript = await script.loadBatch(batch);
  expect({ run: batch.runId, ...fromScript }).toEqual({
    run: batch.runId,
    factRowsInserted: fromTwin.factRowsInserted,
    assetVersionsInserted: fromTwin.assetVersionsInserted,
  });
  return fromScript;
}

describe('merge_run.sql executed on the same batches as the twin', () => {
  test('translates and runs every statement of the script', async () => {
    const outcome = await loadBoth(marketBatch(1, [{ id: 'bitcoin', name: 'Bitcoin', symbol: 'btc' }]));
    expect(outcome).toEqual({ factRowsInserted: 1, assetVersionsInserted: 1 });
    // Interpreted, not sent: the two declarations and the two `set ... = @@row_count`.
    const statements = splitScript(script.lastTranslation.join(';\n'));
    expect(script.lastTranslation).toHaveLength(statements.length);
    expect(script.lastTranslation.map((s) => /^\w+(\s+into)?/i.exec(s)?.[0].toLowerCase())).toEqual([
      'begin',
      'insert into', // dim_date
      'insert into', // dim_asset
      'merge into', // dim_asset redundant versions
      'merge into', // fact
      'insert into', // ops_rejected_record
      'merge into', // ops_run
      'commit',
      'select',
    ]);
  });

  test('gives identical tables and the in-order history for random load orders with redeliveries', async () => {
    // About a second per seed (two engines, ~9 loads each).
    for (let seed = 0; seed < 3; seed++) {
      const random = seededRandom(1000 + seed);
      const history = randomHistory(random, 6, 4);
      const order = shuffled([...history, ...history.filter(() => random() < 0.3)], random);
      const context = `seed ${1000 + seed}, slots ${order.map((b) => b.slot.getUTCHours()).join(',')}`;
      for (const b of order) await loadBoth(b);
      const fromScript = await tablesOf((sql) => script.query(sql));
      expect({ context, tables: fromScript }).toEqual({
        context,
        tables: await tablesOf((sql) => twin.query(sql)),
      });
      expect({ context, dim_asset: fromScript.dim_asset }).toEqual({
        context,
        dim_asset: expectedAssetVersions(history),
      });
      await twin.close();
      script.close();
      twin = await DuckDbWarehouse.open(':memory:');
      script = await BigQueryScriptOnDuckDb.open();
    }
  });

  test('moves a version earlier and splits one, like the twin', async () => {
    const coin = (name: string) => [{ id: 'huobi-token', name, symbol: 'ht' }];
    await loadBoth(marketBatch(1, coin('Huobi')));
    await loadBoth(marketBatch(3, coin('Huobi')));
    await loadBoth(marketBatch(6, coin('HTX')));
    // Slot 5 arrives late with the next version's name: that version now starts at 5.
    expect(await loadBoth(marketBatch(5, coin('HTX')))).toMatchObject({ assetVersionsInserted: 1 });
    // Slot 2 arrives late with another name: a version from 2 to 3, and Huobi resumes at 3.
    expect(await loadBoth(marketBatch(2, coin('Renamed')))).toMatchObject({ assetVersionsInserted: 2 });
    const versions = await script.query(
      `select name, hour(valid_from) as h, run_id from dim_asset order by valid_from`,
    );
    expect(versions).toEqual([
      { name: 'Huobi', h: 1, run_id: 'coingecko_usd_20261121T010000Z' },
      { name: 'Renamed', h: 2, run_id: 'coingecko_usd_20261121T020000Z' },
      { name: 'Huobi', h: 3, run_id: 'coingecko_usd_20261121T030000Z' },
      { name: 'HTX', h: 5, run_id: 'coingecko_usd_20261121T050000Z' },
    ]);
    expect(await tablesOf((sql) => script.query(sql))).toEqual(await tablesOf((sql) => twin.query(sql)));
  });

  test('a second currency at the same slot never adds a second version at that slot', async () => {
    // Two runs share a slot (usd and eur); the name changed between their fetches. The version
    // starting at the slot is kept, as in the twin whose key (asset, valid_from) forbids a second.
    await loadBoth(marketBatch(1, [{ id: 'a', name: 'Before', symbol: 'a' }], 'usd'));
    await loadBoth(marketBatch(1, [{ id: 'a', name: 'After', symbol: 'a' }], 'eur'));
    const tables = await tablesOf((sql) => script.query(sql));
    expect(tables.dim_asset.map((r) => r.name)).toEqual(['Before']);
    expect(tables.fact_market_snapshot).toHaveLength(2);
    expect(tables).toEqual(await tablesOf((sql) => twin.query(sql)));
  });

  test('keeps rejected and duplicated records once, like the twin', async () => {
    const batch = marketBatch(1, [
      { id: 'a', name: 'A', symbol: 'a' },
      { id: 'a', name: 'A', symbol: 'a' },
      { id: 'b', name: 'B', symbol: 'b' },
    ]);
    const withInvalid: StarBatch = {
      ...batch,
      rejected: [
        ...batch.rejected,
        { ...batch.rejected[0]!, record_index: 3, coin_id: null, reason: 'invalid', raw_record: '{}' },
      ],
    };
    await loadBoth(withInvalid);
    await loadBoth(withInvalid);
    const tables = await tablesOf((sql) => script.query(sql));
    expect(tables.ops_rejected_record).toHaveLength(2);
    expect(tables.ops_run).toEqual([
      expect.objectContaining({
        status: 'loaded',
        records_loaded: 2,
        records_rejected: 1,
        records_duplicate: 1,
      }),
    ]);
    expect(tables).toEqual(await tablesOf((sql) => twin.query(sql)));
  });

  test('the run-record guard: a failure is replaced by the load; a loaded run is never changed again', async () => {
    const batch = marketBatch(1, [{ id: 'a', name: 'A', symbol: 'a' }]);
    const failed: RunRow = {
      run_id: batch.runId,
      source: 'coingecko',
      vs_currency: 'usd',
      slot_ts: batch.slot,
      status: 'failed',
      raw_object: 'failures/x.json',
      raw_generation: '7',
      records_in: null,
      records_loaded: null,
      records_rejected: null,
      records_duplicate: null,
      asset_versions_new: null,
      load_started_at: null,
      load_finished_at: null,
      error_code: 'coingecko_http_500',
      error_message: 'boom',
      updated_at: batch.slot,
    };
    const run = async () => (await script.query('select * from ops_run'))[0];
    await script.recordFailedRun(failed);
    await twin.recordFailedRun(failed);
    expect(await run()).toMatchObject({ status: 'failed', error_code: 'coingecko_http_500' });

    await loadBoth(batch);
    const loaded = {
      status: 'loaded',
      raw_object: batch.raw.key,
      error_code: null,
      error_message: null,
      records_loaded: 1,
      asset_versions_new: 1,
    };
    expect(await run()).toMatchObject(loaded);

    // A redelivery inserts nothing and must not overwrite the counts with its zeros.
    expect(await loadBoth({ ...batch, loadStartedAt: new Date(batch.slot.getTime() + 60_000) })).toEqual({
      factRowsInserted: 0,
      assetVersionsInserted: 0,
    });
    expect(await run()).toMatchObject({ ...loaded, load_started_at: batch.slot });

    // A late failure cannot hide the load.
    await script.recordFailedRun({ ...failed, error_message: 'late' });
    await twin.recordFailedRun({ ...failed, error_message: 'late' });
    expect(await run()).toMatchObject(loaded);
    expect(await tablesOf((sql) => script.query(sql))).toEqual(await tablesOf((sql) => twin.query(sql)));
  });
});
