import { createMarketSimulator } from '../../../twin/src/market/market-simulator.js';
import { simulatorResponder } from '../../../twin/src/market/simulator-responder.js';
import type { CoinMarket, MarketQuery, MarketResponse } from '../../../twin/src/market/types.js';

const SLOT = new Date('2026-11-21T05:00:00Z');
const sim = createMarketSimulator({ coins: 120 });

const query = (over: Partial<MarketQuery> = {}): MarketQuery => ({
  vsCurrency: 'usd',
  order: 'market_cap_desc',
  perPage: 50,
  page: 1,
  sparkline: false,
  ...over,
});

const rows = (r: MarketResponse): CoinMarket[] => JSON.parse(r.body.toString()) as CoinMarket[];

describe('simulator responder', () => {
  test('serves the market at the pinned time, page by page', () => {
    const responder = simulatorResponder(sim, { now: () => new Date('2020-01-01T00:00:00Z') });
    responder.setTime(SLOT);
    const pages = [1, 2, 3, 4].map((page) => responder.markets(query({ page })));
    for (const p of pages) expect(p.status).toBe(200);
    expect(pages.map((p) => rows(p).length)).toEqual([50, 50, 20, 0]);
    expect(pages.flatMap(rows)).toEqual(sim.marketAt(SLOT));
    expect(responder.requestCount).toBe(4);
  });

  test('follows now() when no time is pinned, and again after setTime(undefined)', () => {
    let now = SLOT;
    const responder = simulatorResponder(sim, { now: () => now });
    const first = rows(responder.markets(query()));
    now = new Date(SLOT.getTime() + 3_600_000);
    expect(rows(responder.markets(query()))).toEqual(sim.marketAt(now).slice(0, 50));
    responder.setTime(SLOT);
    expect(rows(responder.markets(query()))).toEqual(first);
    responder.setTime(undefined);
    expect(rows(responder.markets(query()))).toEqual(sim.marketAt(now).slice(0, 50));
  });

  test('honours order and quote currency; an unknown currency gets the real API answer', () => {
    const responder = simulatorResponder(sim, { now: () => SLOT });
    const ids = rows(responder.markets(query({ order: 'id_asc', perPage: 250 }))).map((c) => c.id);
    expect(ids).toEqual([...ids].sort());
    const volumes = rows(responder.markets(query({ order: 'volume_desc' }))).map((c) => c.total_volume);
    expect(volumes).toEqual([...volumes].sort((a, b) => b - a));
    expect(rows(responder.markets(query({ vsCurrency: 'eur' })))[0]!.current_price).toBeLessThan(
      rows(responder.markets(query()))[0]!.current_price,
    );
    const bad = responder.markets(query({ vsCurrency: 'xyz' }));
    expect(bad.status).toBe(400);
    expect(bad.body).toBe('{"error":"invalid vs_currency"}');
  });

  test('injects 429 with retry-after, 500 and non-JSON answers on exact request numbers', () => {
    const responder = simulatorResponder(sim, {
      now: () => SLOT,
      faults: {
        rateLimit: { everyNth: 2, retryAfterSeconds: 7 },
        serverErrorEveryNth: 3,
        malformedEveryNth: 5,
      },
    });
    const answers = Array.from({ length: 6 }, () => responder.markets(query()));
    expect(answers.map((a) => a.status)).toEqual([200, 429, 500, 429, 429, 429]);
    expect(answers[1]!.headers?.['retry-after']).toBe('7');
    expect(JSON.parse(answers[1]!.body.toString())).toEqual({
      status: { error_code: 429, error_message: expect.stringContaining('Rate Limit') },
    });
    expect(JSON.parse(answers[2]!.body.toString())).toEqual({
      status: { error_code: 500, error_message: expect.any(String) },
    });
    // Request 5: Cloudflare's plain-text rate limit, no retry-after, not JSON.
    expect(answers[4]!.body).toBe('error code: 1015');
    expect(answers[4]!.headers?.['content-type']).toMatch(/^text\/plain/);
    expect(answers[4]!.headers?.['retry-after']).toBeUndefined();
  });

  test('malformed kinds: HTML page and truncated JSON', () => {
    const responder = simulatorResponder(sim, {
      now: () => SLOT,
      faults: { malformedEveryNth: 1, malformedKind: 'html' },
    });
    const html = responder.markets(query());
    expect([html.status, html.headers?.['content-type']]).toEqual([502, 'text/html; charset=UTF-8']);
    expect(html.body.toString()).toContain('<html>');
    responder.setFaults({ malformedEveryNth: 1, malformedKind: 'truncated-json' });
    const cut = responder.markets(query());
    expect(cut.status).toBe(200);
    expect(() => JSON.parse(cut.body.toString())).toThrow(SyntaxError);
  });

  test('a fixed error envelope, and setFaults restarts the counter', () => {
    const responder = simulatorResponder(sim, { now: () => SLOT });
    responder.markets(query());
    responder.setFaults({
      errorEnvelope: { status: 401, code: 10002, message: 'Missing API key', everyNth: 2 },
    });
    expect(responder.requestCount).toBe(0);
    expect(responder.markets(query()).status).toBe(200);
    const denied = responder.markets(query());
    expect(denied.status).toBe(401);
    expect(JSON.parse(denied.body.toString())).toEqual({
      status: { error_code: 10002, error_message: 'Missing API key' },
    });
    responder.setFaults(undefined);
    expect(responder.markets(query()).status).toBe(200);
  });

  test('rejects a malformed fault plan or time', () => {
    expect(() => simulatorResponder(sim, { faults: { serverErrorEveryNth: 0 } })).toThrow(RangeError);
    expect(() =>
      simulatorResponder(sim, { faults: { rateLimit: { everyNth: 2, retryAfterSeconds: -1 } } }),
    ).toThrow(/retryAfterSeconds/);
    expect(() =>
      simulatorResponder(sim).setFaults({ errorEnvelope: { status: 200, code: 1, message: 'x' } }),
    ).toThrow(/errorEnvelope.status/);
    expect(() => simulatorResponder(sim).setTime(new Date('nope'))).toThrow(RangeError);
  });
});
