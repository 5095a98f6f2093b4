import { existsSync, statSync } from 'node:fs';
import type { DuckDbWarehouse } from '../adapters/duckdb-warehouse.js';
import { assertWarehouseExists } from '../adapters/warehouse-file.js';
import { twinPaths } from '../twin-paths.js';

/** A read-only, locked-down view of the twin's warehouse, and where it came from. */
export interface WarehouseReading {
  warehouse: DuckDbWarehouse;
  /**
   * `warehouse` when the file itself was free; `snapshot` when a running pipeline holds it and the
   * copy it publishes after its loads was read instead (as of `snapshotAt`).
   */
  source: 'warehouse' | 'snapshot';
  snapshotAt?: Date;
  close(): Promise<void>;
}

const LOCKED = /lock/i;

/**
 * Opens the warehouse for reading. DuckDB lets a single process open a file once it is opened for
 * writing, so while `start` (or a long `run`) holds it, readers get the snapshot the writer keeps
 * publishing (SnapshotPublisher): a few seconds old at most, never half-written.
 */
export async function openWarehouseReader(dataDir: string): Promise<WarehouseReading> {
  const paths = twinPaths(dataDir);
  // Before DuckDB is loaded (a fifth of a second): `status` on a fresh folder answers at once.
  assertWarehouseExists(paths.warehouse);
  const { DuckDbWarehouse } = await import('../adapters/duckdb-warehouse.js');
  try {
    const warehouse = await DuckDbWarehouse.openReadOnly(paths.warehouse);
    return { warehouse, source: 'warehouse', close: () => warehouse.close() };
  } catch (error) {
    if (!LOCKED.test((error as Error).message)) throw error;
    if (!existsSync(paths.snapshot)) {
      throw new Error(
        `the warehouse ${paths.warehouse} is held by a running pipeline that has not published a ` +
          'readable copy yet; try again in a few seconds',
        { cause: error },
      );
    }
    const snapshotAt = statSync(paths.snapshot).mtime;
    const warehouse = await DuckDbWarehouse.openReadOnly(paths.snapshot);
    return { warehouse, source: 'snapshot', snapshotAt, close: () => warehouse.close() };
  }
}
