import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { allCharts } from '../../dashboards/definition.js';
import { openWarehouseSource } from '../../twin/src/dashboard/data-source.js';
import { startDashboardServer, type DashboardServer } from '../../twin/src/dashboard/server.js';
import { openHarness, type Harness } from '../support/twin-harness.js';

/**
 * The local dashboard in a real headless Chromium (Debian's, driven by playwright-core): after a
 * few simulator slots over several days, every chart renders with data, the filters change what is
 * shown, new slots appear without a reload, nothing is requested from beyond 127.0.0.1 and the
 * console stays clean. It saves a screenshot to .artifacts/dashboard.png.
 */
// The callbacks given to page.$eval and waitForFunction run in the page, not in Node; the project's
// TypeScript lib is Node's (no DOM), so the few DOM shapes they touch are declared here, in this
// module only.
interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  getAttribute(name: string): string | null;
}
type HTMLElement = PageElement;
declare const document: {
  body: PageElement;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
};

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const SCREENSHOT = join(ROOT, '.artifacts', 'dashboard.png');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let h: Harness;
let server: DashboardServer;
let browser: Browser;
let page: Page;
const requests: string[] = [];
const consoleErrors: string[] = [];
let navigations = 0;

/**
 * Slot times: 01:00 and 13:00 UTC on each of the four days before today, so the same days hold
 * whatever the time of the run (the views are bounded relative to today).
 */
function slots(): Date[] {
  const now = new Date();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return [4, 3, 2, 1].flatMap((day) =>
    [1, 13].map((hour) => new Date(midnight - day * 86_400_000 + hour * 3_600_000)),
  );
}

/** One scheduled slot: a run per configured currency (usd and eur here). */
async function runSlot(time: Date): Promise<void> {
  h.market.simulator?.setTime(time);
  for (const vsCurrency of h.config.vsCurrencies) await h.twin.extract(time, vsCurrency);
  await h.twin.settle();
}

/** The price chart's y-axis labels for a few values, as the page formats them. */
const priceAxisLabels = () =>
  page.$eval('#chart-market_cap_history .plot', (el) => {
    const chart = (
      globalThis as unknown as {
        echarts: { getInstanceByDom(e: unknown): { getOption(): { yAxis: { axisLabel: unknown }[] } } };
      }
    ).echarts.getInstanceByDom(el);
    const formatter = (chart.getOption().yAxis[0]!.axisLabel as { formatter: (v: number) => string })
      .formatter;
    return [formatter(1_234_000_000_000), formatter(5_600_000)];
  });

/** Newest market cap of the first series in the market cap chart (what the page drew). */
const newestDrawnCap = () =>
  page.$eval('#chart-market_cap_history .plot', (el) => {
    const option = (
      globalThis as unknown as {
        echarts: {
          getInstanceByDom(e: unknown): { getOption(): { series: { data: [unknown, number][] }[] } };
        };
      }
    ).echarts
      .getInstanceByDom(el)
      .getOption();
    return option.series[0]!.data.at(-1)![1];
  });

const cardState = (id: string) =>
  page.$eval(`#chart-${id}`, (el) => ({
    state: (el as HTMLElement).dataset.state,
    rows: Number((el as HTMLElement).dataset.rows ?? 0),
    series: JSON.parse((el as HTMLElement).dataset.series ?? '[]') as string[],
  }));

/**
 * Runs `action`, then waits for a whole refresh that started after it (the one in flight may have
 * used the old filters): two more completed refreshes than before.
 */
async function afterRefresh(action: () => Promise<void>): Promise<void> {
  const before = Number(await page.$eval('body', (b) => (b as HTMLElement).dataset.refreshes ?? 0));
  await action();
  await page.waitForFunction(
    (n) => Number((document.body as HTMLElement).dataset.refreshes ?? 0) >= n + 2,
    before,
  );
}

beforeAll(async () => {
  h = await openHarness({ env: { COIN_LIMIT: '30', PER_PAGE: '30', VS_CURRENCIES: 'usd,eur' } });
  for (const time of slots()) await runSlot(time);
  server = await startDashboardServer({
    source: openWarehouseSource(h.twin.warehouse),
    port: 0,
    vsCurrency: h.config.vsCurrency,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  // Anything not for our server is recorded (the test fails on it) and never leaves the machine.
  await context.route('**/*', (route) =>
    route.request().url().startsWith(server.url) ? route.continue() : route.abort(),
  );
  page = await context.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations += 1;
  });
  await page.goto(`${server.url}?refresh=500`);
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('.card')].length > 0 &&
      [...document.querySelectorAll('.card')].every((c) => (c as HTMLElement).dataset.state === 'ok'),
    undefined,
    { timeout: 30_000 },
  );
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await h?.close();
});

describe('the local dashboard in Chromium', () => {
  test('every chart of the definition renders with data', async () => {
    for (const chart of allCharts()) {
      const card = await cardState(chart.id);
      expect({ id: chart.id, state: card.state, hasRows: card.rows > 0 }).toEqual({
        id: chart.id,
        state: 'ok',
        hasRows: true,
      });
      if (chart.kind === 'kpi') continue;
      // ECharts holds the drawn data: every chart has at least one series with points.
      const points = await page.$eval(`#chart-${chart.id} .plot`, (el) => {
        const option = (
          globalThis as unknown as {
            echarts: { getInstanceByDom(e: unknown): { getOption(): { series: { data: unknown[] }[] } } };
          }
        ).echarts
          .getInstanceByDom(el)
          .getOption();
        return option.series.reduce((n, s) => n + s.data.length, 0);
      });
      expect({ id: chart.id, drawn: points > 0 }).toEqual({ id: chart.id, drawn: true });
    }
  });

  test('numbers are readable: compact currency, percentages, UTC times', async () => {
    const kpis = await page.$$eval('#chart-freshness .kpi .value', (els) => els.map((e) => e.textContent));
    expect(kpis[0]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    expect(kpis[1]).toMatch(/^(\d+ min|\d+ h \d+ min)$/);
    const labels = await page.$eval('#chart-market_cap_history .plot', (el) => {
      const chart = (
        globalThis as unknown as {
          echarts: { getInstanceByDom(e: unknown): { getOption(): { yAxis: { axisLabel: unknown }[] } } };
        }
      ).echarts.getInstanceByDom(el);
      const formatter = (chart.getOption().yAxis[0]!.axisLabel as { formatter: (v: number) => string })
        .formatter;
      return [formatter(1_234_000_000_000), formatter(5_600_000)];
    });
    expect(labels).toEqual(['$1.23T', '$5.6M']);
  });

  test('the asset filter changes what the charts show', async () => {
    const before = await cardState('price_history');
    expect(before.series.length).toBe(5); // the five largest assets by default
    const options = await page.$$eval('#assets option', (els) =>
      els.map((e) => ({ value: (e as HTMLElement & { value: string }).value, text: e.textContent ?? '' })),
    );
    const pick = options[7]!;
    await afterRefresh(async () => {
      await page.selectOption('#assets', [pick.value]);
    });
    const symbol = pick.text.split(' · ')[0]!;
    expect((await cardState('price_history')).series).toEqual([symbol]);
    expect((await cardState('dominance')).series).toEqual([symbol]);
    expect((await cardState('moving_averages')).rows).toBe(4); // four days with a close
  });

  test('the date range filters the daily charts and the runs', async () => {
    const lastDay = slots().at(-1)!.toISOString().slice(0, 10);
    await afterRefresh(async () => {
      await page.fill('#from', lastDay);
      await page.dispatchEvent('#from', 'change');
    });
    expect((await cardState('daily_candles')).rows).toBe(1);
    expect((await cardState('moving_averages')).rows).toBe(1);
    expect((await cardState('run_health')).rows).toBe(2);
    await afterRefresh(() => page.click('#reset'));
    expect((await cardState('price_history')).series).toHaveLength(5);
    expect((await cardState('daily_candles')).rows).toBe(4);
    expect((await cardState('run_health')).rows).toBe(8);
  });

  test('the currency selector switches every chart to the other currency, and back', async () => {
    const options = await page.$$eval('#currency option', (els) => els.map((e) => e.textContent));
    expect(options).toEqual(['EUR', 'USD']);
    expect(await page.$eval('#currency', (e) => (e as HTMLElement & { value: string }).value)).toBe('usd');
    const usdCap = await newestDrawnCap();
    const usdRuns = (await cardState('run_health')).rows;
    await afterRefresh(async () => {
      await page.selectOption('#currency', 'eur');
    });
    expect(await page.$eval('body', (b) => (b as HTMLElement).dataset.query)).toMatch(
      /(^|&)currency=eur(&|$)/,
    );
    expect(await priceAxisLabels()).toEqual(['€1.23T', '€5.6M']);
    // The simulator prices eur at a constant 0.92 usd: the same asset, the same slot, in euros.
    expect((await newestDrawnCap()) / usdCap).toBeCloseTo(0.92, 6);
    // Each currency has its own runs; the runs chart shows the selected currency's.
    expect((await cardState('run_health')).rows).toBe(usdRuns);
    for (const chart of allCharts())
      expect({ id: chart.id, state: (await cardState(chart.id)).state }).toEqual({
        id: chart.id,
        state: 'ok',
      });
    mkdirSync(join(ROOT, '.artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, '.artifacts', 'dashboard-eur.png'), fullPage: true });
    await afterRefresh(() => page.click('#reset'));
    expect(await priceAxisLabels()).toEqual(['$1.23T', '$5.6M']);
    expect(await newestDrawnCap()).toBe(usdCap);
  });

  test('a new slot appears without reloading the page', async () => {
    const runs = (await cardState('run_health')).rows;
    await afterRefresh(() => runSlot(new Date(slots().at(-1)!.getTime() + 7 * 3_600_000)));
    expect((await cardState('run_health')).rows).toBe(runs + 1);
    expect(navigations).toBe(1);
  });

  test('no request leaves 127.0.0.1, and the console has no errors', async () => {
    expect(requests.length).toBeGreaterThan(allCharts().length);
    expect(requests.filter((u) => !u.startsWith(server.url))).toEqual([]);
    expect(requests).toContain(`${server.url}vendor/echarts.min.js`);
    expect(consoleErrors).toEqual([]);
  });

  test('saves a screenshot of the whole page', async () => {
    mkdirSync(join(ROOT, '.artifacts'), { recursive: true });
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });
});
