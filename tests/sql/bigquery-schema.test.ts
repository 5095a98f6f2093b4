import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  bigQueryDdl,
  bigQueryTableSpec,
  generatedDdlFiles,
  SQL_PARAMETERS,
  VIEW_FILES,
} from '../../functions/src/schema/bigquery-schema.js';
import { duckDbDdl } from '../../functions/src/schema/duckdb-ddl.js';
import { factMarketSnapshot, opsRun, TABLES } from '../../functions/src/schema/tables.js';
import { listSqlFiles, SQL_DIR } from '../support/zetasql.js';

describe('BigQuery table specs', () => {
  test('the fact is partitioned by day on snapshot_date, clustered by asset and requires a partition filter', () => {
    const spec = bigQueryTableSpec(factMarketSnapshot);
    expect(spec).toMatchObject({
      tableId: 'fact_market_snapshot',
      timePartitioning: { type: 'DAY', field: 'snapshot_date' },
      clustering: ['asset_key'],
      requirePartitionFilter: true,
    });
    expect(spec.schema.find((f) => f.name === 'current_price')).toEqual({
      name: 'current_price',
      type: 'FLOAT',
      mode: 'NULLABLE',
      description: 'CoinGecko current_price.',
    });
    expect(spec.schema.find((f) => f.name === 'slot_ts')?.mode).toBe('REQUIRED');
  });

  test('an unpartitioned table has no partitioning and no partition filter', () => {
    const spec = bigQueryTableSpec(opsRun);
    expect(spec.timePartitioning).toBeUndefined();
    expect(spec.clustering).toBeUndefined();
    expect(spec.requirePartitionFilter).toBe(false);
  });

  test('every column of every table is in its schema, in order, with its description', () => {
    for (const table of TABLES) {
      const spec = bigQueryTableSpec(table);
      expect(spec.schema.map((f) => f.name)).toEqual(table.columns.map((c) => c.name));
      expect(spec.schema.every((f) => f.description.length > 0)).toBe(true);
    }
  });

  test('descriptions are escaped in the DDL', () => {
    expect(bigQueryDdl(factMarketSnapshot)).toContain(
      "description = 'Source\\'s own last_updated for this coin.'",
    );
  });
});

describe('sql/ddl is generated from the schema', () => {
  // A schema change must come with regenerated DDL: `npx tsx scripts/generate-ddl.ts`.
  test.each([...generatedDdlFiles()])('%s is up to date', (file, expected) => {
    expect(readFileSync(join(SQL_DIR, file), 'utf8')).toBe(expected);
  });

  test('sql/ddl holds exactly one file per table', () => {
    expect(readdirSync(join(SQL_DIR, 'ddl')).sort()).toEqual(TABLES.map((t) => `${t.name}.sql`).sort());
  });
});

describe('sql/ inventory', () => {
  test('every parameterised file exists, and the views listed are the views in sql/views', () => {
    const files = listSqlFiles();
    for (const file of Object.keys(SQL_PARAMETERS)) expect(files).toContain(file);
    expect(files.filter((f) => f.startsWith('views/')).sort()).toEqual([...VIEW_FILES].sort());
  });
});

describe('DuckDB and BigQuery schemas agree', () => {
  // Independent of both generators on purpose: the mapping a reader would expect.
  const duckDbTypeOf = {
    STRING: 'VARCHAR',
    INTEGER: 'BIGINT',
    FLOAT: 'DOUBLE',
    BOOLEAN: 'BOOLEAN',
    DATE: 'DATE',
    TIMESTAMP: 'TIMESTAMP',
  } as const;

  test.each(TABLES.map((t) => [t.name, t] as const))(
    '%s: same columns, order, types and nullability',
    async (_name, table) => {
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      try {
        await connection.run(duckDbDdl(table));
        const reader = await connection.runAndReadAll(
          `select column_name, data_type, is_nullable from information_schema.columns
           where table_name = '${table.name}' order by ordinal_position`,
        );
        const duck = reader.getRowObjectsJS().map((r) => ({
          name: r.column_name,
          type: r.data_type,
          required: r.is_nullable === 'NO',
        }));
        const bigQuery = bigQueryTableSpec(table).schema.map((f) => ({
          name: f.name,
          type: duckDbTypeOf[f.type],
          required: f.mode === 'REQUIRED',
        }));
        expect(duck).toEqual(bigQuery);
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    },
  );
});
