import {
  dateValue,
  timestampValue,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { TableDef } from '../../../functions/src/schema/tables.js';

/**
 * Moving star rows into DuckDB from JS (duckdb-warehouse.ts): the appender for batches, bound
 * parameters for the odd row. Both take a row object keyed by column name, typed by the schema.
 */

type ColumnType = TableDef['columns'][number]['type'];

/** A JS Date as a DuckDB TIMESTAMP (microseconds, UTC). */
export const ts = (d: Date) => timestampValue(BigInt(d.getTime()) * 1000n);

/** A `YYYY-MM-DD` date as a DuckDB DATE (days since the epoch). */
const date = (text: string) => dateValue(Math.round(Date.parse(`${text}T00:00:00Z`) / 86_400_000));

/**
 * Appends `rows` to `table` through DuckDB's appender, in the connection's open transaction when
 * there is one (the rows commit or roll back with it). `schema` is `temp` for a staging table.
 * A primary-key violation surfaces from the flush (see isDuplicateKeyError).
 */
export async function appendRows(
  connection: DuckDBConnection,
  name: string,
  table: TableDef,
  rows: readonly object[],
  catalog?: { schema: string; catalog: string },
): Promise<void> {
  if (rows.length === 0) return;
  const appender: DuckDBAppender = catalog
    ? await connection.createAppender(name, catalog.schema, catalog.catalog)
    : await connection.createAppender(name);
  const columns = table.columns;
  // After a failed flush the appender refuses to close ("transaction is aborted"), and the flush's
  // error is the one that says what happened. After a good flush, a failed close is an error of
  // its own: swallowed, the transaction would be aborted and COMMIT would silently roll it back.
  let failure: { error: unknown } | undefined;
  try {
    for (const row of rows) {
      const values = row as Record<string, unknown>;
      for (const column of columns) appendValue(appender, column.type, values[column.name]);
      appender.endRow();
    }
    appender.flushSync();
  } catch (error) {
    failure = { error };
  }
  try {
    appender.closeSync();
  } catch (error) {
    failure ??= { error };
  }
  if (failure) throw failure.error;
}

function appendValue(appender: DuckDBAppender, type: ColumnType, value: unknown): void {
  if (value === null || value === undefined) return appender.appendNull();
  switch (type) {
    case 'STRING':
      return appender.appendVarchar(String(value));
    case 'INT64':
      return appender.appendBigInt(BigInt(value as number));
    case 'FLOAT64':
      return appender.appendDouble(value as number);
    case 'BOOL':
      return appender.appendBoolean(value as boolean);
    case 'DATE':
      return appender.appendDate(date(value as string));
    case 'TIMESTAMP':
      return appender.appendTimestamp(ts(value as Date));
  }
}

/** A row's value as a bound parameter of its column's type (also the bench baselines' binding). */
export function paramValue(type: ColumnType, value: unknown): DuckDBValue {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'STRING':
      return String(value);
    case 'INT64':
      return BigInt(value as number);
    case 'FLOAT64':
      return value as number;
    case 'BOOL':
      return value as boolean;
    case 'DATE':
      return date(value as string);
    case 'TIMESTAMP':
      return ts(value as Date);
  }
}

/**
 * `insert into <table> values (...), (...)` with every value bound, for a handful of rows that
 * would not repay a staging table (its DDL and appender cost more than the insert).
 */
export function insertValues(
  table: TableDef,
  rows: readonly object[],
  suffix = '',
): { sql: string; params: DuckDBValue[] } {
  const params: DuckDBValue[] = [];
  const tuples = rows.map((row) => {
    const values = row as Record<string, unknown>;
    const slots = table.columns.map((column) => {
      params.push(paramValue(column.type, values[column.name]));
      return `$${params.length}`;
    });
    return `(${slots.join(', ')})`;
  });
  const names = table.columns.map((c) => c.name).join(', ');
  return { sql: `insert into ${table.name} (${names}) values ${tuples.join(', ')} ${suffix}`, params };
}

/**
 * A primary key refused a row: from a plain insert ("Constraint Error: ... duplicate key") or
 * from an appender's flush ("Failed to append: Duplicate key ... violates primary key constraint").
 */
export function isDuplicateKeyError(error: unknown): boolean {
  const message = (error as Error | undefined)?.message ?? '';
  return (
    /^Constraint Error: .*duplicate key/is.test(message) ||
    /^Failed to append: Duplicate key .* violates (primary key|unique) constraint/is.test(message)
  );
}
