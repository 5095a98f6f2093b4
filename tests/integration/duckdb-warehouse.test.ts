import { compactUtc } from '../../functions/src/core/run-identity.js';
import { assetVersionKey } from '../../functions/src/transform/star-rows.js';
import { QUALITY_CHECKS } from '../../functions/src/quality/checks.js';
import type { RunRow } from '../../functions/src/schema/tables.js';
import { assetVersionKeySql } from '../../twin/src/adapters/asset-history.js';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import {
  expectedAssetVersions,
  pageBatch,
  randomHistory,
  seededRandom,
  shuffled,
} from '../support/load-order-scenarios.js';

/** The twin's warehouse on its own: the same load semantics as sql/load/merge_run.sql. */
const at = (hour: number) => new Date(Date.UTC(2026, 10, 21, hour));

function batch(hour: number, coins: { id: string; name: string; symbol?: string }[]) {
  const slot = at(hour);
  return pageBatch(
    slot,
    coins.map((c) => ({ id: c.id, name: c.name, symbol: c.symbol ?? c.id, current_price: hour })),
  );
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
    // Arrives late with the new name: the change happened by slot 4, so the new version now starts
    // there (moved earlier), instead of a second, redundant "New" version from 4 to 5.
    await w.loadBatch(batch(4, [{ id: 'a', name: 'New' }]));
    expect(await versions('a')).toEqual([
      ['Old', 1, 4],
      ['New', 4, null],
    ]);
  });

  it('splits a version when a late snapshot differs from it, and the version resumes at the next slot', async () => {
    await w.loadBatch(batch(1, [{ id: 'a', name: 'Huobi' }]));
    await w.loadBatch(batch(3, [{ id: 'a', name: 'Huobi' }]));
    await w.loadBatch(batch(6, [{ id: 'a', name: 'HTX' }]));
    // Slot 2 arrives last with another name: it holds from 2 until slot 3, which still said Huobi.
    const late = await w.loadBatch(batch(2, [{ id: 'a', name: 'Renamed' }]));
    expect(late.assetVersionsInserted).toBe(2);
    expect(await versions('a')).toEqual([
      ['Huobi', 1, 2],
      ['Renamed', 2, 3],
      ['Huobi', 3, 6],
      ['HTX', 6, null],
    ]);
    // The resumed version is the very row loading slot 3 in order would have written.
    const [resumed] = await w.query(
      `select asset_version_key, run_id, loaded_at from dim_asset where coin_id = 'a' and valid_from = $t`,
      { t: at(3).toISOString() },
    );
    expect(resumed).toEqual({
      asset_version_key: assetVersionKey('a', at(3)),
      run_id: `coingecko_usd_${compactUtc(at(3))}`,
      loaded_at: at(3),
    });
  });

  it('is idempotent: applying a batch twice changes nothing and reports nothing inserted', async () => {
    const b = batch(1, [
      { id: 'a', name: 'A' },
      { id: 'b', name: 'B' },
    ]);
    const first = await w.loadBatch(b);
    expect(first).toMatchObject({ factRowsInserted: 2, assetVersionsInserted: 2 });
    expect(first.run).toEqual(await w.getRun(b.runId));
    // The redelivery reports the run record as the first load left it (nothing was rewritten).
    const again = await w.loadBatch(b);
    expect(again).toMatchObject({ factRowsInserted: 0, assetVersionsInserted: 0 });
    expect(again.run).toEqual(first.run);
    const [row] = await w.query('select count(*) as n from fact_market_snapshot');
    expect(row).toEqual({ n: 2 });
    expect((await w.getRun(b.runId))?.records_loaded).toBe(2);
  });

  it('records the quality checks in the load, reports them with getQualityChecks, and never twice', async () => {
    const b = batch(1, [{ id: 'a', name: 'A' }]);
    const count = async () =>
      (await w.query('select count(*) as n from ops_quality_check where run_id = $r', { r: b.runId }))[0];
    await expect(w.getQualityChecks(b.runId)).resolves.toEqual([]);

    const first = await w.loadBatch(b);
    expect(first.qualityChecksRecorded).toBe(true);
    expect(first.qualityChecks.map((c) => c.check_name)).toEqual(QUALITY_CHECKS.map((c) => c.name));
    expect(await w.getQualityChecks(b.runId)).toEqual(first.qualityChecks);

    // A redelivery finds them: it records none and reports the first delivery's rows.
    const again = await w.loadBatch(b);
    expect(again.qualityChecksRecorded).toBe(false);
    expect(again.qualityChecks).toEqual(first.qualityChecks);
    expect(await count()).toEqual({ n: QUALITY_CHECKS.length });

    // The twin cannot lose them (they are in the load's transaction), but a run loaded without
    // them, as BigQuery can leave one, is what run-load applies again: the checks are recorded.
    await w.query('delete from ops_quality_check where run_id = $r', { r: b.runId });
    await expect(w.getQualityChecks(b.runId)).resolves.toEqual([]);
    const repaired = await w.loadBatch(b);
    expect(repaired).toMatchObject({ factRowsInserted: 0, qualityChecksRecorded: true });
    expect(repaired.qualityChecks.map((c) => c.check_name)).toEqual(QUALITY_CHECKS.map((c) => c.name));
    expect(await count()).toEqual({ n: QUALITY_CHECKS.length });
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

describe('DuckDbWarehouse type 2 history does not depend on load order', () => {
  const dimAsset = async (warehouse: DuckDbWarehouse) =>
    warehouse.query(
      `select asset_version_key, asset_key, coin_id, symbol, name, image_url, attributes_hash, valid_from,
              run_id, loaded_at
       from dim_asset order by asset_key, valid_from`,
    );
  const facts = async (warehouse: DuckDbWarehouse) =>
    warehouse.query(
      'select asset_key, slot_ts, current_price, run_id from fact_market_snapshot order by 1, 2',
    );

  it('gives the in-order history for random load orders with redeliveries (seeded)', async () => {
    // The in-order facts, for comparison: the fact does not depend on order either.
    const reference = randomHistory(seededRandom(0), 7, 5);
    for (const b of reference) await w.loadBatch(b);
    const referenceFacts = await facts(w);
    // Each seed costs about a second (a warehouse and ~9 loads); 5 seeds reach every rule.
    for (let seed = 0; seed < 5; seed++) {
      const random = seededRandom(seed);
      const history = randomHistory(random, 7, 5);
      // Every batch at least once, in a random order, plus a few redeliveries anywhere.
      const redelivered = history.filter(() => random() < 0.3);
      const order = shuffled([...history, ...redelivered], random);
      const shuffledWarehouse = await DuckDbWarehouse.open(':memory:');
      try {
        for (const b of order) await shuffledWarehouse.loadBatch(b);
        const context = `seed ${seed}, order ${order.map((b) => b.slot.getUTCHours()).join(',')}`;
        expect({ context, rows: await dimAsset(shuffledWarehouse) }).toEqual({
          context,
          rows: expectedAssetVersions(history),
        });
        if (seed === 0) expect(await facts(shuffledWarehouse)).toEqual(referenceFacts);
      } finally {
        await shuffledWarehouse.close();
      }
    }
  });

  it('the oracle agrees with loading in slot order', async () => {
    const history = randomHistory(seededRandom(99), 7, 5);
    for (const b of history) await w.loadBatch(b);
    expect(await dimAsset(w)).toEqual(expectedAssetVersions(history));
  });
});

describe('assetVersionKeySql', () => {
  it('computes the key TypeScript computes', async () => {
    for (const [coin, slot] of [
      ['bitcoin', at(5)],
      ['huobi-token', new Date(Date.UTC(2027, 0, 1, 23, 45, 0, 0))],
      ["it's-a-coin", new Date(Date.UTC(2026, 1, 28))],
    ] as const) {
      const [row] = await w.query(`select ${assetVersionKeySql('$coin', 'cast($slot as timestamp)')} as k`, {
        coin,
        slot: slot.toISOString(),
      });
      expect(row).toEqual({ k: assetVersionKey(coin, slot) });
    }
  });
});
