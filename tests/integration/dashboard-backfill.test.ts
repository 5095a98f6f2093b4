import { request } from 'node:http';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { historyChunkId } from '../../functions/src/history/chunk-plan.js';
import { buildHistoryBatch } from '../../functions/src/history/history-batch.js';
import { parseMarketChart } from '../../functions/src/history/market-chart.js';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { warehouseFileReader } from '../../twin/src/dashboard/data-source.js';
import { startDashboardServer, type DashboardServer } from '../../twin/src/dashboard/server.js';
import { daysAgo, loadSlot } from '../support/analytics-fixture.js';
import { tempDir } from '../support/twin-harness.js';

/**
 * After a backfill, the dashboard shows history: the price chart reads v_price_history, and the
 * page's asset list and date span include the backfilled coins and days.
 */
const DAY = 86_400_000;
const dir = tempDir('cmp-dash-backfill-');
let server: DashboardServer;

beforeAll(async () => {
  const w = await DuckDbWarehouse.open(join(dir, 'warehouse.duckdb'));
  await loadSlot(w, daysAgo(1, 12), [{ id: 'alpha', current_price: 10, market_cap: 300 }]);
  const from = new Date(daysAgo(100).getTime() - (daysAgo(100).getTime() % DAY));
  const base = {
    coinId: 'gamma',
    vsCurrency: 'usd',
    granularity: 'daily' as const,
    from,
    to: new Date(from.getTime() + 5 * DAY),
  };
  const chunk = { chunkId: historyChunkId(base), ...base };
  const times = [0, 1, 2, 3, 4].map((d) => from.getTime() + d * DAY);
  const body = {
    prices: times.map((t) => [t, 2]),
    market_caps: times.map((t) => [t, 50]),
    total_volumes: [],
  };
  await w.loadHistoryChunk(
    buildHistoryBatch(
      chunk,
      parseMarketChart(body, chunk),
      { bucket: 'b', key: 'k', generation: '1' },
      new Date(),
    ),
  );
  await w.close();
  server = await startDashboardServer({ source: warehouseFileReader(dir), port: 0, vsCurrency: 'usd' });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(pathname: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path: pathname, headers: { host: `127.0.0.1:${server.port}` } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('the asset list and the date span include the backfilled coin and days', async () => {
  const meta = await get('/api/meta');
  expect((meta.assets as { coin_id: string }[]).map((a) => a.coin_id)).toEqual(['alpha', 'gamma']);
  expect(meta.first_date).toBe(new Date(daysAgo(100).getTime()).toISOString().slice(0, 10));
});

test('the price chart plots backfilled points with snapshots', async () => {
  const chart = (await get('/api/charts/price_history?assets=alpha,gamma')) as {
    rows: Record<string, unknown>[];
  };
  expect(chart.rows.filter((r) => r.coin_id === 'gamma')).toHaveLength(5);
  expect(chart.rows.filter((r) => r.coin_id === 'alpha')).toHaveLength(1);
  expect(chart.rows.find((r) => r.coin_id === 'gamma')).toMatchObject({ symbol: 'gamma', price: 2 });
});
