import { existsSync } from 'node:fs';
import { LoadError } from '../../../functions/src/load/errors.js';

/**
 * Fails with the CLI's "run the pipeline first" error when there is no warehouse file at `path`.
 * Apart from duckdb-warehouse.ts so a reader can say so without loading DuckDB.
 */
export function assertWarehouseExists(path: string): void {
  if (!existsSync(path)) {
    throw new LoadError(`no warehouse at ${path} yet: run the pipeline first (npm run pipeline -- run)`, {
      code: 'warehouse_missing',
      retryable: false,
    });
  }
}
