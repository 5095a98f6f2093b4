import type { DuckDbWarehouse } from '../adapters/duckdb-warehouse.js';
import { openWarehouseReader, type WarehouseReading } from '../reading/warehouse-reader.js';

export type Row = Record<string, unknown>;
export type QueryParams = Record<string, string | number>;

/**
 * Where the dashboard reads its rows: a small interface so the way of reading can change without
 * touching the server (e.g. for a shared warehouse reader that never waits on the pipeline's writer).
 */
export interface DashboardDataSource {
  /** Runs one read-only query with named parameters. */
  query(sql: string, params?: QueryParams): Promise<Row[]>;
  /** A reason the data cannot be read right now (shown on the page), or undefined. */
  unavailable?(): string | undefined;
  close?(): Promise<void>;
}

/** The warehouse does not exist yet or cannot be opened now; the page says so and keeps polling. */
export class DataUnavailableError extends Error {
  override readonly name = 'DataUnavailableError';
}

/**
 * Reads the warehouse of another process: opens it read-only for each query and closes it at once,
 * so this reader never holds the file between requests. While a running pipeline holds the file,
 * it reads the copy that pipeline publishes (reading/warehouse-reader.ts), a few seconds behind.
 */
export function warehouseFileReader(dataDir: string): DashboardDataSource {
  return {
    async query(sql, params = {}) {
      // A missing warehouse, or one held with no copy published yet, is "unavailable" on the page.
      let reading: WarehouseReading;
      try {
        reading = await openWarehouseReader(dataDir);
      } catch (error) {
        throw new DataUnavailableError((error as Error).message);
      }
      try {
        return await reading.warehouse.query(sql, params);
      } finally {
        await reading.close();
      }
    },
  };
}

/**
 * Reads through a warehouse this process already has open (the pipeline's own, in `start`): queries
 * take their turn between loads on the same connection, so they see each load as soon as it commits.
 */
export function openWarehouseSource(warehouse: Pick<DuckDbWarehouse, 'query'>): DashboardDataSource {
  return { query: (sql, params = {}) => warehouse.query(sql, params) };
}
