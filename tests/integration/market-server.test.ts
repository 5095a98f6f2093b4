import { Agent, request } from 'node:http';
import { createMarketSimulator } from '../../twin/src/market/market-simulator.js';
import { startMarketServer, type MarketServer } from '../../twin/src/market/market-server.js';
import { simulatorResponder, type SimulatorResponder } from '../../twin/src/market/simulator-responder.js';
import type { CoinMarket } from '../../twin/src/market/types.js';
import { closeServersAfterAll, getJson, MARKETS_PATH, serve } from '../support/market-servers.js';

// Tests against real CoinGecko files (record keys, replaying the daily series) are in
// tests/corpus/market-server.corpus.test.ts.

const SLOT = new Date('2026-11-21T05:00:00Z');
const MARKETS = MARKETS_PATH;

closeServersAfterAll();

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
