import type { DecodedRawObject } from '../../functions/src/core/raw-object.js';
import { compactUtc } from '../../functions/src/core/run-identity.js';
import { buildStarBatch } from '../../functions/src/transform/star-rows.js';
import type { RunRow } from '../../functions/src/schema/tables.js';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';

/** The twin's warehouse on its own: the same load semantics as sql/load/merge_run.sql. */
const at = (hour: number) => new Date(Date.UTC(2026, 10, 21, hour));

function batch(hour: number, coins: { id: string; name: string; symbol?: string }[]) {
  const slot = at(hour);
  const runId = `coingecko_usd_${compactUtc(slot)}`;
  const raw: DecodedRawObject = {
    manifest: {
      schemaVersion: 1,
      runId,
      source: 'coingecko',
      endpoint: '/api/v3/coins/markets',
      vsCurrency: 'usd',
      slot: slot.toISOString(),
      market: 'test',
      request: { coinLimit: 10, perPage: 10 },
      pages: [],
      recordCount: coins.length,
      extractedAt: slot.toISOString(),
    },
    pages: [coins.map((c) => ({ id: c.id, name: c.name, symbol: c.symbol ?? c.id, current_price: hour }))],
  };
  return buildStarBatch(raw, { bucket: 'b', key: `${runId}.json`, generation: String(hour) }, slot);
}

let w: DuckDbWarehouse;
beforeEach(async () => {
  w = await DuckDbWarehouse.open(':memory:');
});
afterEach(() => w.close());

const versions = async (id: string) =>
  (
    await w.query(
      `select name, valid_from, valid_to, is_current from v_dim_asset where coin_id = $id order by valid_from`,
      {
        id,
      },
    )
  ).map((r) => [
    r.name,
    (r.valid_from as Date).getUTCHours(),
    (r.valid_to as Date | null)?.getUTCHours() ?? null,
  ]);

describe('DuckDbWarehouse', () => {
  it('keeps type 2 history in order: a version per change, including a change back', async () => {
    for (const [hour, name] of [
      [1, 'Huobi'],
      [2, 'Huobi'],
      [3, 'HTX'],
      [4, 'HTX'],
      [5, 'Huobi'],
    ] as const) {
      await w.loadBatch(batch(hour, [{ id: 'huobi-token', name }]));
    }
    expect(await versions('huobi-token')).toEqual([
      ['Huobi', 1, 3],
      ['HTX', 3, 5],
      ['Huobi', 5, null],
    ]);
  });

  it('places a late, out-of-order snapshot in the version in effect at its slot', async () => {
    await w.loadBatch(batch(1, [{ id: 'a', name: 'Old' }]));
    await w.loadBatch(batch(5, [{ id: 'a', name: 'New' }]));
    // Arrives late: slot 3 still had the old name, so no version is added.
    const late = await w.loadBatch(batch(3, [{ id: 'a', name: 'Old' }]));
    expect(late.assetVersionsInserted).toBe(0);
    // Arrives late with the new name: the change happened by slot 4, so the new version starts there.
    await w.loadBatch(batch(4, [{ id: 'a', name: 'New' }]));
    expect(await versions('a')).toEqual([
      ['Old', 1, 4],
      ['New', 4, 5],
      ['New', 5, null],
    ]);
  });

  it('is idempotent: applying a batch twice changes nothing and reports nothing inserted', async () => {
    const b = batch(1, [
      { id: 'a', name: 'A' },
      { id: 'b', name: 'B' },
    ]);
    expect(await w.loadBatch(b)).toMatchObject({ factRowsInserted: 2, assetVersionsInserted: 2 });
    expect(await w.loadBatch(b)).toMatchObject({ factRowsInserted: 0, assetVersionsInserted: 0 });
    const [row] = await w.query('select count(*) as n from fact_market_snapshot');
    expect(row).toEqual({ n: 2 });
    expect((await w.getRun(b.runId))?.records_loaded).toBe(2);
  });

  it('records a failure, replaces it with a later success, and never lets a failure overwrite a success', async () => {
    const b = batch(1, [{ id: 'a', name: 'A' }]);
    const failed: RunRow = {
      run_id: b.runId,
      source: 'coingecko',
      vs_currency: 'usd',
      slot_ts: b.slot,
      status: 'failed',
      raw_object: 'failures/x.json',
      raw_generation: '1',
      records_in: null,
      records_loaded: null,
      records_rejected: null,
      records_duplicate: null,
      asset_versions_new: null,
      load_started_at: null,
      load_finished_at: null,
      error_code: 'coingecko_http_500',
      error_message: 'boom',
      updated_at: at(1),
    };
    await w.recordFailedRun(failed);
    expect(await w.getRun(b.runId)).toMatchObject({ status: 'failed', error_code: 'coingecko_http_500' });
    await w.loadBatch(b);
    expect(await w.getRun(b.runId)).toMatchObject({ status: 'loaded', error_code: null, records_loaded: 1 });
    await w.recordFailedRun({ ...failed, error_message: 'late failure' });
    expect(await w.getRun(b.runId)).toMatchObject({ status: 'loaded', error_message: null });
  });

  it('rolls a load back whole when it crashes between statements', async () => {
    const b = batch(1, [{ id: 'a', name: 'A' }]);
    w.failpoint = (step) => {
      if (step === 'fact') throw new Error('crash');
    };
    await expect(w.loadBatch(b)).rejects.toMatchObject({ retryable: true, code: 'warehouse_transient' });
    const [counts] = await w.query(
      'select (select count(*) from fact_market_snapshot) as facts, (select count(*) from dim_asset) as assets, (select count(*) from ops_run) as runs',
    );
    expect(counts).toEqual({ facts: 0, assets: 0, runs: 0 });
  });
});
