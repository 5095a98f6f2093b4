import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { dateValue } from '@duckdb/node-api';
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import type { StarBatch } from '../../functions/src/core/warehouse.js';
import { duckDbDdl } from '../../functions/src/schema/duckdb-ddl.js';
import { dimAsset, dimDate, factMarketSnapshot, type TableDef } from '../../functions/src/schema/tables.js';
import { paramValue, ts } from '../../twin/src/adapters/duckdb-rows.js';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { createMarketSimulator } from '../../twin/src/market/market-simulator.js';
import { simulatorBatch } from '../lib/fixtures.js';
import { compare, figure, type Figure } from '../lib/report.js';
import { repeat, summarise, timeMs } from '../lib/stats.js';

/** A fresh warehouse file for one measurement, removed afterwards. */
async function withWarehouse<T>(work: (w: DuckDbWarehouse) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'cmp-bench-wh-'));
  const warehouse = await DuckDbWarehouse.open(join(dir, 'warehouse.duckdb'));
  try {
    return await work(warehouse);
  } finally {
    await warehouse.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Per-load time over `runs` loads of simulator batches into one warehouse in one process: the
 * first 100 loads are the baseline, the last 100 the figure (no growth = ratio near 1).
 */
export async function growthFigure(runs: number, coins: number): Promise<Figure> {
  const simulator = createMarketSimulator({ coins });
  const times = await withWarehouse(async (warehouse) => {
    const out: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      const batch = simulatorBatch(coins, i, simulator);
      out.push(await timeMs(() => warehouse.loadBatch(batch)));
    }
    return out;
  });
  const window = Math.min(100, Math.floor(runs / 2));
  const first = summarise(times.slice(0, window));
  const last = summarise(times.slice(-window));
  return figure({
    id: 'load-growth',
    label: `per-load time, last ${window} of ${runs} loads (${coins} coins)`,
    unit: 'ms',
    value: last,
    comparisons: [compare(last, `first ${window} loads, same process`, first, { maxRatio: 1.2 })],
    note: 'DuckDbWarehouse.loadBatch of hourly simulator batches into one warehouse file, one process',
  });
}

/** Typed appends, value by value: the fastest way DuckDB's appender takes rows from JS. */
function appendRow(appender: DuckDBAppender, table: TableDef, row: object): void {
  const values = row as Record<string, unknown>;
  for (const column of table.columns) {
    const v = values[column.name];
    if (v === null || v === undefined) {
      appender.appendNull();
      continue;
    }
    switch (column.type) {
      case 'STRING':
        appender.appendVarchar(v as string);
        break;
      case 'INT64':
        appender.appendBigInt(BigInt(v as number));
        break;
      case 'FLOAT64':
        appender.appendDouble(v as number);
        break;
      case 'BOOL':
        appender.appendBoolean(v as boolean);
        break;
      case 'DATE':
        appender.appendDate(paramValue('DATE', v) as ReturnType<typeof dateValue>);
        break;
      case 'TIMESTAMP':
        appender.appendTimestamp(ts(v as Date));
        break;
    }
  }
  appender.endRow();
}

const PARTS = (batch: StarBatch) =>
  [
    [factMarketSnapshot, batch.facts],
    [dimAsset, batch.assetCandidates],
    [dimDate, batch.dates],
  ] as const;

/** The batch's rows into the star tables by DuckDB itself, in one transaction. */
async function duckDbAlone(batch: StarBatch, mode: 'appender' | 'row-by-row'): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'cmp-bench-alone-'));
  const instance = await DuckDBInstance.create(join(dir, 'alone.duckdb'));
  const c: DuckDBConnection = await instance.connect();
  try {
    for (const [table] of PARTS(batch)) await c.run(duckDbDdl(table));
    return await timeMs(async () => {
      await c.run('begin');
      for (const [table, rows] of PARTS(batch)) {
        if (mode === 'appender') {
          const appender = await c.createAppender(table.name);
          for (const row of rows) appendRow(appender, table, row);
          appender.flushSync();
          appender.closeSync();
        } else {
          const names = table.columns.map((col) => col.name);
          const insert = await c.prepare(
            `insert into ${table.name} (${names.join(', ')}) values (${names.map((_, i) => `$${i + 1}`).join(', ')})`,
          );
          for (const row of rows) {
            const values = row as Record<string, unknown>;
            insert.bind(table.columns.map((col) => paramValue(col.type, values[col.name])));
            await insert.run();
          }
        }
      }
      await c.run('commit');
    });
  } finally {
    c.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One big batch (`coins` fact rows, as many asset candidates, one date) through the warehouse's
 * bulk path, against DuckDB's appender and a row-by-row insert of the same rows, each into a fresh
 * file. Times are for the whole batch; fewer ms is faster.
 */
export async function bulkLoadFigure(coins: number, reps: number): Promise<Figure> {
  const batch = simulatorBatch(coins, 0);
  const rows = batch.facts.length + batch.assetCandidates.length + batch.dates.length;
  const bulk = await repeat(reps, () => withWarehouse((w) => timeMs(() => w.loadBatch(batch))));
  const appender = await repeat(reps, () => duckDbAlone(batch, 'appender'));
  const rowByRow = await repeat(reps, () => duckDbAlone(batch, 'row-by-row'));
  const rate = bulk.median ? Math.round((rows / bulk.median) * 1000) : 0;
  return figure({
    id: 'bulk-load',
    label: `bulk load, one batch of ${rows} rows`,
    unit: 'ms',
    value: bulk,
    comparisons: [
      // ≥ 0.7x the appender's speed is at most 1/0.7 = 1.43x its time.
      compare(bulk, "DuckDB's appender, same rows", appender, { maxRatio: Number((1 / 0.7).toFixed(2)) }),
      compare(bulk, 'row-by-row insert, one transaction', rowByRow, { minSpeedup: 50 }),
    ],
    note: `DuckDbWarehouse.loadBatch on a fresh file (${rate} rows/s, type 2 and conflict checks included)`,
  });
}
