import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { marketBatch } from '../support/load-order-scenarios.js';

/**
 * The readable copy of the warehouse (publishSnapshot) is written on a connection of its own,
 * beside the loads: it must still hold whole loads only, and closing the warehouse must wait for a
 * copy in progress rather than cut it off.
 */

const COINS = Array.from({ length: 50 }, (_, i) => ({ id: `coin-${i}`, name: `Coin ${i}`, symbol: `c${i}` }));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cmp-snapshot-copy-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs and facts in a copy, read the way `status` reads it. */
async function readCopy(path: string) {
  const copy = await DuckDbWarehouse.openReadOnly(path);
  try {
    const [row] = await copy.query(
      `select (select count(*) from ops_run where status = 'loaded') as runs,
              (select coalesce(sum(records_loaded), 0) from ops_run) as recorded,
              (select count(*) from fact_market_snapshot) as facts,
              (select count(*) from ops_quality_check) as checks`,
    );
    return row as { runs: number; recorded: number; facts: number; checks: number };
  } finally {
    await copy.close();
  }
}

describe('readable copies of the warehouse', () => {
  test('a copy taken while loads go on holds whole loads only', async () => {
    const w = await DuckDbWarehouse.open(join(dir, 'warehouse.duckdb'));
    const target = join(dir, 'warehouse.snapshot.duckdb');
    await w.loadBatch(marketBatch(0, COINS));
    // The copy and the next loads are under way at the same time.
    const copied = w.publishSnapshot(target);
    const loads = [1, 2, 3].map((slot) => w.loadBatch(marketBatch(slot, COINS)));
    await Promise.all([copied, ...loads]);
    await w.close();

    const copy = await readCopy(target);
    expect(copy.runs).toBeGreaterThanOrEqual(1);
    expect(copy.runs).toBeLessThanOrEqual(4);
    // Every fact in the copy belongs to a run recorded as loaded in it, with its quality checks.
    expect(copy.facts).toBe(copy.runs * COINS.length);
    expect(copy.recorded).toBe(copy.facts);
    expect(copy.checks).toBe(copy.runs * 10);
    expect(existsSync(`${target}.partial`)).toBe(false);
  });

  test('closing the warehouse waits for a copy in progress', async () => {
    const w = await DuckDbWarehouse.open(join(dir, 'warehouse.duckdb'));
    const target = join(dir, 'warehouse.snapshot.duckdb');
    for (const slot of [0, 1]) await w.loadBatch(marketBatch(slot, COINS));
    const copied = w.publishSnapshot(target);
    await w.close();
    // Closed means closed: the file is free for the next writer at once (a copy still running
    // would keep DuckDB's hold on it), and the copy was finished first.
    const next = await DuckDbWarehouse.open(join(dir, 'warehouse.duckdb'));
    await next.loadBatch(marketBatch(2, COINS));
    await next.close();
    await copied;
    expect(await readCopy(target)).toEqual({ runs: 2, recorded: 100, facts: 100, checks: 20 });
  });
});
