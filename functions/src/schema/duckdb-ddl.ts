import type { ColumnType, TableDef } from './tables.js';

/** BigQuery type -> DuckDB type. TIMESTAMP is stored as UTC wall time (the twin's session is UTC). */
export const DUCKDB_TYPES: Record<ColumnType, string> = {
  STRING: 'VARCHAR',
  INT64: 'BIGINT',
  FLOAT64: 'DOUBLE',
  BOOL: 'BOOLEAN',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
};

/**
 * `CREATE TABLE IF NOT EXISTS` for the twin's DuckDB warehouse, generated from the schema source of
 * truth. The row key becomes a primary key, which DuckDB enforces (BigQuery relies on MERGE).
 */
export function duckDbDdl(table: TableDef, name = table.name): string {
  const columns = table.columns.map(
    (c) => `  ${c.name} ${DUCKDB_TYPES[c.type]}${c.required ? ' NOT NULL' : ''}`,
  );
  const key = table.key.length > 0 ? [`  PRIMARY KEY (${table.key.join(', ')})`] : [];
  return `CREATE TABLE IF NOT EXISTS ${name} (\n${[...columns, ...key].join(',\n')}\n);`;
}
