import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { warehouseFileReader } from '../../twin/src/dashboard/data-source.js';
import { startDashboardServer, type DashboardServer } from '../../twin/src/dashboard/server.js';
import { daysAgo, loadSlot } from '../support/analytics-fixture.js';
import { tempDir } from '../support/twin-harness.js';

/** The dashboard server over HTTP, reading a warehouse file the way `crypto-pipeline dashboard` does. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = tempDir('cmp-dash-');
const path = join(dir, 'warehouse.duckdb');
let server: DashboardServer;

beforeAll(async () => {
  server = await startDashboardServer({ source: warehouseFileReader(dir), port: 0, vsCurrency: 'usd' });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(
  pathname: string,
  options: { host?: string; method?: string } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: pathname,
        method: options.method ?? 'GET',
        headers: { host: options.host ?? `127.0.0.1:${server.port}` },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('before the pipeline has run', () => {
  test('the page loads and the data endpoints say there is no warehouse yet (503)', async () => {
    expect((await get('/')).status).toBe(200);
    const meta = await get('/api/meta');
    expect(meta.status).toBe(503);
    expect(JSON.parse(meta.body).error).toMatch(/no warehouse at .* yet/);
  });
});

describe('with data', () => {
  beforeAll(async () => {
    const w = await DuckDbWarehouse.open(path);
    await loadSlot(w, daysAgo(1, 12), [
      { id: 'alpha', current_price: 10, market_cap: 300, price_change_percentage_24h: 4 },
      { id: 'beta', current_price: 5, market_cap: 100, price_change_percentage_24h: -2 },
    ]);
    await w.close();
  });

  test('serves a chart from its view, filtered by the assets asked for', async () => {
    const r = await get('/api/charts/dominance?assets=alpha');
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body) as { id: string; rows: Record<string, unknown>[] };
    expect(body.id).toBe('dominance');
    expect(body.rows).toHaveLength(1);
    expect(body.rows[0]).toMatchObject({ coin_id: 'alpha', dominance_pct: 75 });
  });

  test('lists the assets, largest market cap first, and the date span', async () => {
    const meta = JSON.parse((await get('/api/meta')).body) as { assets: { coin_id: string }[] };
    expect(meta.assets.map((a) => a.coin_id)).toEqual(['alpha', 'beta']);
    expect(meta).toMatchObject({ first_date: daysAgo(1).toISOString().slice(0, 10), currencies: ['usd'] });
  });

  test('holds no lock between requests: another process can open the file for writing', async () => {
    await get('/api/charts/top_movers');
    // Another process, as the pipeline would be: DuckDB refuses it the file while any reader here
    // still has it open (within one process DuckDB would not tell).
    const script = `import { DuckDBInstance } from '@duckdb/node-api';
      const db = await DuckDBInstance.create(${JSON.stringify(path)});
      db.closeSync();`;
    await expect(
      promisify(execFile)('node', ['--input-type=module', '-e', script], { cwd: ROOT, timeout: 30_000 }),
    ).resolves.toBeDefined();
  });

  test('answers bad filters with 400, unknown charts with 404, other methods with 405', async () => {
    expect((await get("/api/charts/dominance?assets=x'--")).status).toBe(400);
    expect((await get('/api/charts/nope')).status).toBe(404);
    expect((await get('/api/meta', { method: 'POST' })).status).toBe(405);
  });

  test('refuses a request for another host name (DNS rebinding)', async () => {
    expect((await get('/api/meta', { host: 'evil.example:80' })).status).toBe(421);
  });

  test('the page may load nothing from other origins, and ECharts comes from node_modules', async () => {
    const page = await get('/');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(page.body).toContain('<script src="/vendor/echarts.min.js"></script>');
    expect(page.body).not.toMatch(/https?:\/\//);
    const echarts = await get('/vendor/echarts.min.js');
    expect(echarts.status).toBe(200);
    expect(echarts.body.length).toBeGreaterThan(500_000);
  });
});
