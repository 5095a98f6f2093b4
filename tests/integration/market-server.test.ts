import { Agent, request } from 'node:http';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMarketSimulator } from '../../twin/src/market/market-simulator.js';
import { startMarketServer, type MarketServer } from '../../twin/src/market/market-server.js';
import { openReplay, type ReplaySource } from '../../twin/src/market/replay-source.js';
import { simulatorResponder, type SimulatorResponder } from '../../twin/src/market/simulator-responder.js';
import type { CoinMarket } from '../../twin/src/market/types.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CORPUS = process.env.COINGECKO_CORPUS_DIR ?? resolve(REPO, '../shared/corpus/coingecko');
const DAILY = join(CORPUS, 'markets-daily-top100');
const FORBIDDEN_FILE = 'markets_usd_top100_2023-03-30T00-54-42.json';
const REAL_DAILY = [
  'markets_usd_top100_2023-03-20T00-08-51.json',
  'markets_usd_top100_2024-03-30T00-43-20.json',
  'markets_usd_top100_2026-04-30T02-29-21.json',
];
const SLOT = new Date('2026-11-21T05:00:00Z');
const MARKETS = '/api/v3/coins/markets?vs_currency=usd&order=market_cap_desc&sparkline=false';

const servers: MarketServer[] = [];
async function serve(...args: Parameters<typeof startMarketServer>): Promise<MarketServer> {
  const server = await startMarketServer(...args);
  servers.push(server);
  return server;
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function getJson(url: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

describe('market server over the simulator', () => {
  let server: MarketServer;
  let responder: SimulatorResponder;

  beforeAll(async () => {
    responder = simulatorResponder(createMarketSimulator());
    responder.setTime(SLOT);
    server = await serve(responder);
  });

  test('listens on 127.0.0.1 and answers ping like CoinGecko', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.apiUrl).toBe(`${server.url}/api/v3`);
    const res = await fetch(`${server.apiUrl}/ping`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.text()).toBe('{"gecko_says":"(V3) To the Moon!"}');
  });

  test('pages through all 500 coins at the pinned slot, then []', async () => {
    const pages: CoinMarket[][] = [];
    for (let page = 1; page <= 3; page++) {
      const { status, body } = await getJson(`${server.url}${MARKETS}&per_page=250&page=${page}`);
      expect(status).toBe(200);
      pages.push(body as CoinMarket[]);
    }
    expect(pages.map((p) => p.length)).toEqual([250, 250, 0]);
    const all = pages.flat();
    expect(new Set(all.map((c) => c.id)).size).toBe(500);
    expect(all).toEqual(createMarketSimulator().marketAt(SLOT));
  });

  test('simulated records have the same keys, in the same order, as a real corpus record', async () => {
    const real = JSON.parse(await readFile(join(DAILY, REAL_DAILY[2]!), 'utf8')) as Record<string, unknown>[];
    const { body } = await getJson(`${server.url}${MARKETS}&per_page=5`);
    for (const coin of body as CoinMarket[]) expect(Object.keys(coin)).toEqual(Object.keys(real[0]!));
  });

  test.each([
    ['per_page=251', /per_page must be an integer between 1 and 250/],
    ['per_page=abc', /per_page/],
    ['per_page=1e2', /per_page/],
    ['page=0', /page must be/],
    ['sparkline=maybe', /sparkline/],
    ['order=price_desc', /order must be one of/],
  ])('rejects %s with a 400 error envelope', async (param, message) => {
    const { status, body } = await getJson(`${server.apiUrl}/coins/markets?vs_currency=usd&${param}`);
    expect(status).toBe(400);
    expect(body).toEqual({ status: { error_code: 400, error_message: expect.stringMatching(message) } });
  });

  test('rejects a missing vs_currency; tolerates odd encodings and unknown parameters', async () => {
    const missing = await getJson(`${server.url}/api/v3/coins/markets?per_page=10`);
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({
      status: { error_code: 400, error_message: 'Missing parameter vs_currency' },
    });
    const odd = await getJson(`${server.url}${MARKETS}&per_page=2&x=%zz&precision=full&`);
    expect(odd.status).toBe(200);
    expect(odd.body).toHaveLength(2);
  });

  test('unknown paths get 404, other methods 405, HEAD the headers only', async () => {
    for (const path of ['/api/v3/coins/list', '/', '//evil.example/api/v3/ping', '/api/v3/ping/extra']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: expect.stringContaining('Incorrect path') });
    }
    const post = await fetch(`${server.apiUrl}/ping`, { method: 'POST', body: '{}' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const head = await fetch(`${server.url}${MARKETS}&per_page=3`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(100);
    expect(await head.text()).toBe('');
  });

  test('a responder that throws answers 500 instead of crashing the server', async () => {
    const broken = await serve({
      markets: () => {
        throw new Error('boom');
      },
    });
    const { status, body } = await getJson(`${broken.url}${MARKETS}`);
    expect(status).toBe(500);
    expect(body).toEqual({ status: { error_code: 500, error_message: expect.stringContaining('boom') } });
    expect((await fetch(`${broken.apiUrl}/ping`)).status).toBe(200);
  });

  test('close() ends idle keep-alive sockets instead of waiting for them', async () => {
    const own = await startMarketServer(responder);
    const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000 });
    await new Promise<void>((done, fail) => {
      request(`${own.apiUrl}/ping`, { agent }, (res) => {
        res.resume();
        res.on('end', done);
      })
        .on('error', fail)
        .end();
    });
    const started = Date.now();
    await own.close();
    await own.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    agent.destroy();
  });
});

describe('market server fault injection', () => {
  test('429 with retry-after, 500, and a non-JSON CDN body, on schedule', async () => {
    const responder = simulatorResponder(createMarketSimulator({ coins: 50 }), {
      now: () => SLOT,
      faults: {
        rateLimit: { everyNth: 2, retryAfterSeconds: 3 },
        serverErrorEveryNth: 3,
        malformedEveryNth: 5,
      },
    });
    const server = await serve(responder);
    const answers: Array<{ status: number; retryAfter: string | null; text: string }> = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${server.url}${MARKETS}&per_page=10`);
      answers.push({
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        text: await res.text(),
      });
    }
    expect(answers.map((a) => a.status)).toEqual([200, 429, 500, 429, 429]);
    expect(answers[1]!.retryAfter).toBe('3');
    expect(JSON.parse(answers[1]!.text)).toEqual({
      status: { error_code: 429, error_message: expect.any(String) },
    });
    expect(JSON.parse(answers[2]!.text)).toEqual({
      status: { error_code: 500, error_message: expect.any(String) },
    });
    expect(answers[4]).toEqual({ status: 429, retryAfter: null, text: 'error code: 1015' });
    expect(() => JSON.parse(answers[4]!.text)).toThrow(SyntaxError);
    // Ping is not counted or faulted: it is the health check.
    expect((await fetch(`${server.apiUrl}/ping`)).status).toBe(200);
    expect(responder.requestCount).toBe(5);
  });
});

describe('market server over a replay folder', () => {
  let dir: string;
  let replay: ReplaySource;
  let server: MarketServer;
  const small = '[{"id":"x","symbol":"x","last_updated":"2025-01-01T00:00:05.000Z"}]';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'replay-int-'));
    await writeFile(join(dir, 'markets_usd_top100_2025-01-01T00-00-10.json'), small);
    for (const name of [FORBIDDEN_FILE, ...REAL_DAILY]) await copyFile(join(DAILY, name), join(dir, name));
    replay = await openReplay(dir);
    server = await serve(replay);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('serves real daily files byte for byte', async () => {
    for (const name of REAL_DAILY) {
      await replay.select(name);
      const res = await fetch(`${server.url}${MARKETS}&per_page=100&page=1`);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(join(DAILY, name)))).toBe(true);
      const past = await fetch(`${server.url}${MARKETS}&per_page=100&page=2`);
      expect(await past.text()).toBe('[]');
    }
    await replay.select('markets_usd_top100_2025-01-01T00-00-10.json');
    expect(await (await fetch(`${server.url}${MARKETS}`)).text()).toBe(small);
  });

  test('serves the real 403 body with status 403, verbatim', async () => {
    await replay.select(FORBIDDEN_FILE);
    const res = await fetch(`${server.url}${MARKETS}&per_page=100`);
    expect(res.status).toBe(403);
    expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(join(DAILY, FORBIDDEN_FILE)))).toBe(
      true,
    );
  });

  test('slot of the 403 file comes from its name; of a data file, from its newest last_updated', async () => {
    expect((await replay.slotTimeOf(FORBIDDEN_FILE)).toISOString()).toBe('2023-03-30T00:54:42.000Z');
    for (const name of REAL_DAILY) {
      const records = JSON.parse(await readFile(join(DAILY, name), 'utf8')) as Array<{
        last_updated: string | null;
      }>;
      const newest = Math.max(
        ...records.map((r) => (r.last_updated ? Date.parse(r.last_updated) : -Infinity)),
      );
      expect((await replay.slotTimeOf(name)).getTime()).toBe(newest);
    }
  });

  test('the whole real daily series (1,136 files) replays quickly', async () => {
    const full = await openReplay(DAILY);
    expect(full.files).toHaveLength(1136);
    const started = Date.now();
    const statuses = new Map<number, number>();
    let previous = -Infinity;
    let outOfOrder = 0;
    for (const name of full.files) {
      await full.select(name);
      const status = (
        await full.markets({
          vsCurrency: 'usd',
          order: 'market_cap_desc',
          perPage: 100,
          page: 1,
          sparkline: false,
        })
      ).status;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const slot = (await full.slotTimeOf(name)).getTime();
      if (slot < previous) outOfOrder += 1;
      previous = slot;
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: 1135, 403: 1 });
    // File names are commit times, so slots (newest last_updated) mostly follow name order.
    expect(outOfOrder).toBeLessThan(full.files.length / 10);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
