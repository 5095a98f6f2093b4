import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findUp } from '../../../functions/src/core/find-up.js';
import { allCharts, DASHBOARD, type DashboardDef } from '../../../dashboards/definition.js';
import { BadFilterError, chartQuery, parseFilters } from './chart-query.js';
import { DataUnavailableError, type DashboardDataSource } from './data-source.js';

/** The page and its scripts (twin/src/dashboard/web/), and ECharts' own build from node_modules. */
// From the source (twin/src/dashboard/) or the compiled CLI (dist/cli/, its chunks): the same files.
const WEB_DIR =
  findUp(fileURLToPath(new URL('.', import.meta.url)), 'twin/src/dashboard/web', 'index.html') ??
  fileURLToPath(new URL('./web/', import.meta.url));
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: join(WEB_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/static/app.js': { file: join(WEB_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/static/charts.js': { file: join(WEB_DIR, 'charts.js'), type: 'text/javascript; charset=utf-8' },
  '/static/format.js': { file: join(WEB_DIR, 'format.js'), type: 'text/javascript; charset=utf-8' },
  '/static/style.css': { file: join(WEB_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/vendor/echarts.min.js': {
    file: createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
};

/**
 * Everything the page loads comes from this server: the policy makes the browser refuse any other
 * origin (no CDN, no fonts, no beacons). Inline styles are allowed because ECharts' tooltips use them.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export interface DashboardServerOptions {
  source: DashboardDataSource;
  /** 0 picks a free port. */
  port: number;
  /** The default quote currency (the first configured): selected first when the warehouse has it. */
  vsCurrency: string;
  dashboard?: DashboardDef;
}

export interface DashboardServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Newest market cap per asset, for the asset filter (largest first). */
// Assets and dates come from v_price_history, snapshots and backfilled history alike, so a new
// deployment after a backfill lists the backfilled coins and a date span that reaches back.
const ASSETS_SQL = `
  select p.coin_id, any_value(a.symbol) as symbol, any_value(a.name) as name,
         arg_max(p.market_cap, p.ts) as market_cap
  from v_price_history as p
  left join v_dim_asset as a on a.coin_id = p.coin_id and a.is_current
  group by p.coin_id
  order by market_cap desc nulls last, p.coin_id
  limit 250`;
/** The quote currencies loaded, for the currency selector. */
const CURRENCIES_SQL = `select distinct vs_currency from fact_market_snapshot order by vs_currency`;
const DATES_SQL = `
  select cast(min(p.price_date) as varchar) as first_date, cast(max(p.price_date) as varchar) as last_date,
         (select max(f.slot_ts) from fact_market_snapshot as f) as newest_slot_ts
  from v_price_history as p`;

/**
 * The local dashboard: serves the page on 127.0.0.1 only, and one JSON endpoint per chart of the
 * definition (`/api/charts/<id>?assets=a,b&from=YYYY-MM-DD&to=YYYY-MM-DD&currency=usd`) that reads the chart's
 * view through the data source.
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const dashboard = options.dashboard ?? DASHBOARD;
  const charts = new Map(allCharts(dashboard).map((c) => [c.id, c]));
  let port = options.port;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'GET only' });
    // A page on another site cannot reach this server through a rebound DNS name.
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`)
      return send(res, 421, { error: `unexpected host ${host}` });
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const file = STATIC[url.pathname];
    if (file) {
      const body = await readFile(file.file);
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache', ...SECURITY_HEADERS });
      return void res.end(req.method === 'HEAD' ? undefined : body);
    }
    try {
      if (url.pathname === '/api/dashboard')
        return send(res, 200, { ...dashboard, vsCurrency: options.vsCurrency });
      if (url.pathname === '/api/meta') {
        const [dates] = await options.source.query(DATES_SQL);
        const assets = await options.source.query(ASSETS_SQL);
        const currencies = (await options.source.query(CURRENCIES_SQL)).map((r) => String(r.vs_currency));
        return send(res, 200, { ...dates, assets, currencies });
      }
      const match = /^\/api\/charts\/([a-z0-9_]+)$/.exec(url.pathname);
      const chart = match ? charts.get(match[1]!) : undefined;
      if (chart) {
        const { sql, params } = chartQuery(chart, parseFilters(url.searchParams));
        return send(res, 200, { id: chart.id, rows: await options.source.query(sql, params) });
      }
      return send(res, 404, { error: `no such page or chart: ${url.pathname}` });
    } catch (error) {
      if (error instanceof BadFilterError) return send(res, 400, { error: error.message });
      if (error instanceof DataUnavailableError) return send(res, 503, { error: error.message });
      return send(res, 500, { error: (error as Error).message });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { error: String(error) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** JSON with Dates as ISO strings; never cached, so polling always sees the newest rows. */
function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...SECURITY_HEADERS,
  });
  res.end(JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}
