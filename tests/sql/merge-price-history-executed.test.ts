import type { HistoryChunk } from '../../functions/src/history/chunk-plan.js';
import { historyChunkId } from '../../functions/src/history/chunk-plan.js';
import { buildHistoryBatch } from '../../functions/src/history/history-batch.js';
import { parseMarketChart } from '../../functions/src/history/market-chart.js';
import type { BackfillChunkRow } from '../../functions/src/schema/tables.js';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { BigQueryScriptOnDuckDb } from '../support/bigquery-script-on-duckdb.js';

/**
 * sql/load/merge_price_history.sql (and record_failed_chunk.sql) executed, translated to DuckDB,
 * on the same chunks as the twin's DuckDbWarehouse: both engines must leave the same rows, add
 * nothing on a redelivery and only the new points of an overlapping chunk.
 */
const DAY = 86_400_000;
const START = Date.parse('2026-03-01T00:00:00Z');
const LOADED_AT = new Date('2026-12-05T10:00:00Z');

function chunk(coinId: string, fromDay: number, toDay: number): HistoryChunk {
  const base = {
    coinId,
    vsCurrency: 'usd',
    granularity: 'daily' as const,
    from: new Date(START + fromDay * DAY),
    to: new Date(START + toDay * DAY),
  };
  return { chunkId: historyChunkId(base), ...base };
}

function batchOf(c: HistoryChunk) {
  const times = [];
  for (let t = c.from.getTime(); t < c.to.getTime(); t += DAY) times.push(t);
  const body = {
    prices: times.map((t) => [t, t / 1e9]),
    market_caps: times.map((t, i) => [t, i % 3 === 0 ? 0 : t / 1e3]),
    total_volumes: times.map((t) => [t, 1e9]),
  };
  return buildHistoryBatch(
    c,
    parseMarketChart(body, c),
    { bucket: 'b', key: `raw/${c.chunkId}.json`, generation: '1' },
    LOADED_AT,
  );
}

const TABLES = {
  fact_price_history: 'select * from fact_price_history order by coin_id, ts',
  ops_backfill_chunk: 'select * exclude (updated_at) from ops_backfill_chunk order by chunk_id',
  dim_date: 'select * from dim_date order by date_key',
};

let twin: DuckDbWarehouse;
let script: BigQueryScriptOnDuckDb;
beforeEach(async () => {
  twin = await DuckDbWarehouse.open(':memory:');
  script = await BigQueryScriptOnDuckDb.open();
});
afterEach(async () => {
  await twin.close();
  script.close();
});

async function loadBoth(c: HistoryChunk): Promise<number> {
  const batch = batchOf(c);
  const fromTwin = await twin.loadHistoryChunk(batch);
  const fromScript = await script.loadHistoryChunk(batch);
  expect({ chunk: c.chunkId, ...fromScript }).toEqual({ chunk: c.chunkId, ...fromTwin });
  return fromScript.pointsInserted;
}

async function expectSameTables() {
  for (const [table, sql] of Object.entries(TABLES)) {
    expect({ table, rows: await script.query(sql) }).toEqual({ table, rows: await twin.query(sql) });
  }
}

describe('merge_price_history.sql executed on the same chunks as the twin', () => {
  test('inserts the points, the calendar and the chunk record', async () => {
    expect(await loadBoth(chunk('bitcoin', 0, 10))).toBe(10);
    await expectSameTables();
    expect(await script.query('select count(*) as n from dim_date')).toEqual([{ n: 10 }]);
  });

  test('a redelivered chunk adds nothing; an overlapping one only its new points', async () => {
    await loadBoth(chunk('bitcoin', 0, 10));
    expect(await loadBoth(chunk('bitcoin', 0, 10))).toBe(0);
    expect(await loadBoth(chunk('bitcoin', 5, 15))).toBe(5);
    expect(await loadBoth(chunk('ethereum', 5, 15))).toBe(10);
    await expectSameTables();
    expect(await script.query('select count(*) as n from fact_price_history')).toEqual([{ n: 25 }]);
  });

  test('a failed chunk is recorded, then turned into loaded; a loaded one is never failed again', async () => {
    const c = chunk('bitcoin', 0, 3);
    const failed: BackfillChunkRow = {
      chunk_id: c.chunkId,
      coin_id: c.coinId,
      vs_currency: c.vsCurrency,
      granularity: c.granularity,
      range_from: c.from,
      range_to: c.to,
      status: 'failed',
      raw_object: 'failures/x.json',
      raw_generation: '1',
      points_in: null,
      points_loaded: null,
      points_rejected: null,
      error_code: 'coingecko_api_error',
      error_message: 'CoinGecko error 10012',
      updated_at: LOADED_AT,
    };
    await twin.recordFailedChunk(failed);
    await script.recordFailedChunk(failed);
    await expectSameTables();
    await loadBoth(c);
    await twin.recordFailedChunk(failed);
    await script.recordFailedChunk(failed);
    await expectSameTables();
    expect(await script.query('select status, error_code from ops_backfill_chunk')).toEqual([
      { status: 'loaded', error_code: null },
    ]);
  });
});
