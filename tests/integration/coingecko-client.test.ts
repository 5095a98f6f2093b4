import { ConfigError } from '../../functions/src/config.js';
import type { CoinGeckoClientOptions } from '../../functions/src/extract/coingecko-client.js';
import {
  caught,
  json,
  KEY,
  makeClientFor,
  sequence,
  startScriptedServer,
  usd,
  type Recorded,
  type Reply,
  type Script,
  type ScriptedServer,
} from '../support/coingecko-stub.js';

/**
 * The client against a real HTTP server on 127.0.0.1, scripted per test, with a fake clock so
 * throttling, backoff and budgets are asserted exactly and take no real time. Tests that replay
 * real CoinGecko bodies from the corpus are in tests/corpus/market-client.corpus.test.ts.
 */

const envelope = (
  errorCode: number,
  errorMessage: string,
  status: number,
  headers: Record<string, string> = {},
): Reply => json({ status: { error_code: errorCode, error_message: errorMessage } }, status, headers);

const coins = (count: number, offset = 0) =>
  Array.from({ length: count }, (_, i) => ({
    id: `coin-${offset + i}`,
    symbol: `c${offset + i}`,
    current_price: 1,
  }));

let stub: ScriptedServer;
let baseUrl: string;
let script: Script;
let requests: Recorded[];

beforeEach(async () => {
  script = sequence(json([]));
  stub = await startScriptedServer((request, index) => script(request, index));
  ({ url: baseUrl, requests } = stub);
});

afterEach(() => stub.close());

const makeClient = (overrides: Partial<CoinGeckoClientOptions> = {}) => makeClientFor(baseUrl, overrides);

describe('plans, headers and secrecy', () => {
  it('keyless sends no key header, a user agent and the documented markets query', async () => {
    script = sequence(json(coins(3)));
    const { client } = makeClient();
    const pages = await client.fetchMarkets(usd(3));
    expect(requests).toHaveLength(1);
    const [req] = requests;
    expect(req!.path).toBe('/api/v3/coins/markets');
    expect(Object.fromEntries(req!.query)).toEqual({
      vs_currency: 'usd',
      order: 'market_cap_desc',
      per_page: '3',
      page: '1',
      sparkline: 'false',
    });
    expect(req!.headers['user-agent']).toMatch(/^crypto-market-pipeline\/0\.1/);
    expect(req!.headers['x-cg-demo-api-key']).toBeUndefined();
    expect(req!.headers['x-cg-pro-api-key']).toBeUndefined();
    expect(pages[0]!.url).toBe(`${baseUrl}/api/v3/coins/markets?${req!.query.toString()}`);
    expect(client.description).toBe(`coingecko keyless plan at ${baseUrl}`);
  });

  it.each([
    ['demo', 'x-cg-demo-api-key', 'x-cg-pro-api-key'],
    ['pro', 'x-cg-pro-api-key', 'x-cg-demo-api-key'],
  ] as const)('%s sends the key only in the %s header', async (plan, header, otherHeader) => {
    script = sequence(json(coins(2)));
    const { client } = makeClient({ plan });
    const pages = await client.fetchMarkets(usd(2));
    expect(requests[0]!.headers[header]).toBe(KEY);
    expect(requests[0]!.headers[otherHeader]).toBeUndefined();
    expect(requests[0]!.query.toString()).not.toContain(KEY);
    expect(pages[0]!.url).not.toContain(KEY);
    expect(JSON.stringify(pages.map(({ body: _b, ...meta }) => meta))).not.toContain(KEY);
    expect(client.description).not.toContain(KEY);
  });

  it('keeps the key out of error messages, details and progress even when the server echoes it', async () => {
    script = sequence(
      envelope(429, `rate limited for key ${KEY}`, 429),
      envelope(10002, `API key ${KEY} is invalid`, 401),
    );
    const { client, events } = makeClient({ plan: 'pro' });
    const error = await caught(client.fetchMarkets(usd(10)));
    expect(error.code).toBe('coingecko_api_error');
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain(KEY);
    expect(JSON.stringify(error.details)).not.toContain(KEY);
    expect(String(error.stack)).not.toContain(KEY);
    expect(JSON.stringify(events)).not.toContain(KEY);
    expect(error.cause).toBeUndefined();
  });

  it('refuses a demo or pro plan without a key before any request', () => {
    expect(() => makeClient({ plan: 'demo', apiKey: undefined })).toThrow(ConfigError);
    expect(() => makeClient({ plan: 'pro', apiKey: '  ' })).toThrow(/COINGECKO_API_KEY/);
    expect(requests).toHaveLength(0);
  });
});

describe('pagination', () => {
  it('splits 300 coins at perPage 250 into 2 pages of 150', async () => {
    script = (req) => json(coins(150, (Number(req.query.get('page')) - 1) * 150));
    const { client, events } = makeClient();
    const pages = await client.fetchMarkets(usd(300, 250));
    expect(requests.map((r) => [r.query.get('page'), r.query.get('per_page')])).toEqual([
      ['1', '150'],
      ['2', '150'],
    ]);
    expect(pages.map((p) => [p.page, p.records, p.status, p.attempts])).toEqual([
      [1, 150, 200, 1],
      [2, 150, 200, 1],
    ]);
    expect(events.filter((e) => e.kind === 'page_fetched')).toHaveLength(2);
  });

  it('stops early when a page comes back short', async () => {
    script = sequence(json(coins(250)), json(coins(100, 250)), json(coins(250)));
    const { client } = makeClient();
    const pages = await client.fetchMarkets(usd(1000, 250));
    expect(requests).toHaveLength(2);
    expect(pages.map((p) => p.records)).toEqual([250, 100]);
  });

  it('stops after an empty first page', async () => {
    script = sequence(json([]));
    const { client } = makeClient();
    const pages = await client.fetchMarkets(usd(500));
    expect(requests).toHaveLength(1);
    expect(pages).toHaveLength(1);
    expect(pages[0]!.records).toBe(0);
  });

  it('never asks for more than 250 per page', async () => {
    script = sequence(json(coins(250)));
    const { client } = makeClient();
    await client.fetchMarkets(usd(500, 1000));
    expect(requests.map((r) => r.query.get('per_page'))).toEqual(['250', '250']);
  });

  it('keeps the body bytes verbatim, exponent notation and whitespace included', async () => {
    const raw = Buffer.from(
      '[ {"id":"tether","total_supply":2.1e+15,"price_change_percentage_24h":-6.0e-05,"name":"Tether \\u20ae"} ]\n',
    );
    script = sequence({ status: 200, headers: { 'content-type': 'application/json' }, body: raw });
    const { client } = makeClient();
    const [page] = await client.fetchMarkets(usd(5));
    expect(Buffer.isBuffer(page!.body)).toBe(true);
    expect(page!.body.equals(raw)).toBe(true);
    expect(page!.body.toString()).toContain('2.1e+15');
    expect(page!.body.toString()).toContain('-6.0e-05');
    expect(page!.records).toBe(1);
    expect(page!.fetchedAt).toBe('2026-11-21T05:00:00.000Z');
  });

  it('rejects a request it cannot make before calling the API', async () => {
    const { client } = makeClient();
    const error = await client.fetchMarkets(usd(0)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'coingecko_request_invalid', retryable: false });
    const badCurrency = await client
      .fetchMarkets({ vsCurrency: 'usd&x=1', coinLimit: 5, perPage: 5 })
      .catch((e) => e);
    expect(badCurrency).toMatchObject({ code: 'coingecko_request_invalid' });
    expect(requests).toHaveLength(0);
  });
});

describe('throttle', () => {
  it('starts requests at least 60000/callsPerMinute ms apart, shared by every call on the client', async () => {
    script = (req) =>
      req.path.endsWith('/ping') ? json({ gecko_says: '(V3) To the Moon!' }) : json(coins(2));
    const { client, clock, events } = makeClient({ callsPerMinute: 30 });
    await client.fetchMarkets(usd(6, 2));
    expect(requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([2000, 2000]);
    await client.ping();
    expect(clock.sleeps).toEqual([2000, 2000, 2000]);
    expect(
      events.filter((e) => e.kind === 'throttle_wait').map((e) => e.kind === 'throttle_wait' && e.waitMs),
    ).toEqual([2000, 2000, 2000]);
  });
});

describe('retries', () => {
  it('waits exactly retry-after seconds after a 429', async () => {
    script = sequence(
      envelope(429, "You've exceeded the Rate Limit.", 429, { 'retry-after': '3' }),
      json(coins(1)),
    );
    const { client, clock, events } = makeClient();
    const [page] = await client.fetchMarkets(usd(1));
    expect(clock.sleeps).toEqual([3000]);
    expect(page!.attempts).toBe(2);
    expect(events).toContainEqual(
      expect.objectContaining({
        kind: 'retry_scheduled',
        page: 1,
        attempt: 1,
        delayMs: 3000,
        source: 'retry-after',
        code: 'coingecko_rate_limited',
      }),
    );
  });

  it('falls back to jittered exponential backoff when retry-after is 0 or absent', async () => {
    script = sequence(
      envelope(429, 'slow down', 429, { 'retry-after': '0' }),
      envelope(429, 'slow down', 429),
      envelope(429, 'slow down', 429, { 'retry-after': 'later' }),
      json(coins(1)),
    );
    const { client, clock, events } = makeClient({ random: () => 0.5 });
    const [page] = await client.fetchMarkets(usd(1));
    // Full jitter with random 0.5: half of 1s, 2s, 4s.
    expect(clock.sleeps).toEqual([500, 1000, 2000]);
    expect(page!.attempts).toBe(4);
    expect(events.filter((e) => e.kind === 'retry_scheduled').every((e) => e.source === 'backoff')).toBe(
      true,
    );
  });

  it('honours an HTTP-date retry-after', async () => {
    const clockStart = Date.parse('2026-11-21T05:00:00Z');
    script = sequence(
      { status: 503, headers: { 'retry-after': new Date(clockStart + 7000).toUTCString() }, body: 'busy' },
      json(coins(1)),
    );
    const { client, clock } = makeClient();
    await client.fetchMarkets(usd(1));
    expect(clock.sleeps).toEqual([7000]);
  });

  it('succeeds after a 500 with attempts = 2', async () => {
    script = sequence(envelope(500, 'Internal Server Error', 500), json(coins(4)));
    const { client } = makeClient();
    const pages = await client.fetchMarkets(usd(4));
    expect(requests).toHaveLength(2);
    expect(pages).toHaveLength(1);
    expect(pages[0]!.attempts).toBe(2);
    expect(pages[0]!.status).toBe(200);
    expect(pages[0]!.records).toBe(4);
  });

  it('retries a non-JSON CDN 429 body', async () => {
    script = sequence(
      { status: 429, headers: { 'content-type': 'text/plain' }, body: 'error code: 1015' },
      json(coins(1)),
    );
    const { client, events } = makeClient();
    const [page] = await client.fetchMarkets(usd(1));
    expect(page!.attempts).toBe(2);
    const retry = events.find((e) => e.kind === 'retry_scheduled');
    expect(retry).toMatchObject({ code: 'coingecko_rate_limited' });
    expect(retry?.kind === 'retry_scheduled' && retry.reason).toContain('error code: 1015');
  });

  it('retries an error envelope carrying 429 on a 200', async () => {
    script = sequence(envelope(429, "You've exceeded the Rate Limit.", 200), json(coins(1)));
    const { client } = makeClient();
    const [page] = await client.fetchMarkets(usd(1));
    expect(page!.attempts).toBe(2);
  });

  it('retries when the server drops the connection', async () => {
    script = sequence({ destroy: true }, json(coins(2)));
    const { client, events } = makeClient();
    const [page] = await client.fetchMarkets(usd(2));
    expect(requests).toHaveLength(2);
    expect(page!.attempts).toBe(2);
    expect(events).toContainEqual(
      expect.objectContaining({ kind: 'retry_scheduled', code: 'coingecko_network_error' }),
    );
  });

  it('fails at once, still retryable for the platform, when nothing listens at the address', async () => {
    const { client, clock, events } = makeClientFor('http://127.0.0.1:9', { retryBudgetMs: 120_000 });
    const error = await caught(client.ping());
    expect(error.code).toBe('coingecko_unreachable');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/cannot reach the API \(ECONNREFUSED/);
    expect(clock.sleeps).toEqual([]);
    expect(events.filter((e) => e.kind === 'retry_scheduled')).toEqual([]);
  });

  it('fails at once when the host name does not resolve', async () => {
    const { client, clock } = makeClientFor('http://no-such-host.invalid', { retryBudgetMs: 120_000 });
    const error = await caught(client.fetchMarkets(usd(1)));
    expect(error.code).toBe('coingecko_unreachable');
    expect(error.message).toMatch(/ENOTFOUND/);
    expect(clock.sleeps).toEqual([]);
  });

  it('retries when a request times out', async () => {
    script = sequence({ hang: true }, json(coins(2)));
    const { client, events } = makeClient({ requestTimeoutMs: 150 });
    const [page] = await client.fetchMarkets(usd(2));
    expect(page!.attempts).toBe(2);
    expect(events).toContainEqual(
      expect.objectContaining({ kind: 'retry_scheduled', code: 'coingecko_timeout' }),
    );
  });

  it('gives up with a retryable budget error naming the last failure and the attempts', async () => {
    script = sequence(envelope(503, 'Service Unavailable', 503));
    const { client, clock } = makeClient({ retryBudgetMs: 10_000, random: () => 0.999 });
    const error = await caught(client.fetchMarkets(usd(5)));
    expect(error.code).toBe('coingecko_retry_budget_exhausted');
    expect(error.retryable).toBe(true);
    // Waits 999 + 1998 + 3996 fit in 10s; the next (7992) would not.
    expect(clock.sleeps).toEqual([999, 1998, 3996]);
    expect(requests).toHaveLength(4);
    expect(error.message).toContain('4 attempts');
    expect(error.message).toContain('HTTP 503');
    expect(error.message).toContain('Service Unavailable');
    expect(error.details).toMatchObject({
      status: 503,
      errorCode: 503,
      page: 1,
      attempts: 4,
      budgetMs: 10_000,
    });
    expect(error.body).toBe(
      JSON.stringify({ status: { error_code: 503, error_message: 'Service Unavailable' } }),
    );
  });

  it('gives up at once when retry-after asks for more than the budget has left', async () => {
    script = sequence(envelope(429, 'Rate Limit', 429, { 'retry-after': '600' }));
    const { client, clock } = makeClient({ retryBudgetMs: 60_000 });
    const error = await caught(client.fetchMarkets(usd(5)));
    expect(error.code).toBe('coingecko_retry_budget_exhausted');
    expect(error.message).toMatch(/after 1 attempts.*HTTP 429 \(CoinGecko error 429: Rate Limit\)/);
    expect(clock.sleeps).toEqual([]);
    expect(requests).toHaveLength(1);
  });
});

describe('terminal errors', () => {
  it('treats a non-JSON 200 as a malformed body, without retrying', async () => {
    script = sequence({
      status: 200,
      headers: { 'content-type': 'text/html' },
      body: '<html>maintenance</html>',
    });
    const { client } = makeClient();
    const error = await caught(client.fetchMarkets(usd(5)));
    expect(error.code).toBe('coingecko_malformed_body');
    expect(error.retryable).toBe(false);
    expect(error.body).toBe('<html>maintenance</html>');
    expect(requests).toHaveLength(1);
  });

  it('treats JSON that is neither an array nor an envelope as a malformed body', async () => {
    script = sequence(json({ coins: [] }));
    const { client } = makeClient();
    const error = await caught(client.fetchMarkets(usd(5)));
    expect(error).toMatchObject({ code: 'coingecko_malformed_body', retryable: false });
    expect(error.message).toContain('not an array');
  });

  it('treats an error envelope on a 200 as an API error', async () => {
    script = sequence(envelope(10005, 'This request is limited to PRO API subscribers.', 200));
    const { client } = makeClient({ plan: 'demo' });
    const error = await caught(client.fetchMarkets(usd(5)));
    expect(error).toMatchObject({ code: 'coingecko_api_error', retryable: false });
    expect(error.details).toMatchObject({ status: 200, errorCode: 10005 });
    expect(error.message).toContain('demo plan does not include');
  });

  it('explains which host a pro key needs on 10010', async () => {
    script = sequence(
      envelope(
        10010,
        'If you are using Pro API key, please change your root URL from api.coingecko.com to pro-api.coingecko.com',
        400,
      ),
    );
    const { client } = makeClient({ plan: 'demo' });
    const error = await caught(client.fetchMarkets(usd(5)));
    expect(error).toMatchObject({ code: 'coingecko_api_error', retryable: false });
    expect(error.message).toContain('COINGECKO_PLAN=pro');
    expect(error.message).toContain('https://pro-api.coingecko.com');
    expect(requests).toHaveLength(1);
  });

  it('explains which host a demo key needs on 10011', async () => {
    script = sequence(envelope(10011, 'If you are using Demo API key, please change your root URL', 400));
    const { client } = makeClient({ plan: 'pro' });
    const error = await caught(client.fetchMarkets(usd(5)));
    expect(error.message).toContain('COINGECKO_PLAN=demo');
    expect(error.message).toContain('https://api.coingecko.com');
  });

  it('reads the nested envelope of a plan-window error', async () => {
    script = sequence(
      json(
        {
          error: {
            status: { timestamp: '2026-11-21T05:00:00Z', error_code: 10012, error_message: 'beyond window' },
          },
        },
        401,
      ),
    );
    const { client } = makeClient({ plan: 'demo' });
    const error = await caught(client.fetchMarkets(usd(5)));
    expect(error).toMatchObject({ code: 'coingecko_api_error', retryable: false });
    expect(error.details).toMatchObject({ errorCode: 10012, errorMessage: 'beyond window', status: 401 });
    expect(error.message).toContain('historical data window');
  });

  it.each([400, 401, 403, 404])(
    'fails a plain HTTP %i at once with coingecko_http_<status>',
    async (status) => {
      script = sequence({ status, body: 'Nope' });
      const { client } = makeClient();
      const error = await caught(client.fetchMarkets(usd(5)));
      expect(error).toMatchObject({ code: `coingecko_http_${status}`, retryable: false, status });
      expect(error.message).toContain(`HTTP ${status}: Nope`);
      expect(requests).toHaveLength(1);
    },
  );

  it('does not follow a redirect, so the key header never travels to another URL', async () => {
    script = (req) =>
      req.path === '/elsewhere'
        ? json(coins(1))
        : { status: 302, headers: { location: `${baseUrl}/elsewhere` } };
    const { client } = makeClient({ plan: 'demo' });
    const error = await caught(client.fetchMarkets(usd(1)));
    expect(error).toMatchObject({ code: 'coingecko_http_302', retryable: false });
    expect(requests.map((r) => r.path)).toEqual(['/api/v3/coins/markets']);
  });

  it('throws and returns no pages when page 2 fails terminally', async () => {
    script = sequence(json(coins(2)), envelope(10005, 'plan restricted', 401), json(coins(2)));
    const { client, events } = makeClient();
    let result: unknown = 'not set';
    const error = await caught(
      client.fetchMarkets(usd(6, 2)).then((pages) => {
        result = pages;
      }),
    );
    expect(result).toBe('not set');
    expect(error.details.page).toBe(2);
    expect(error.message).toContain('page 2');
    expect(requests).toHaveLength(2);
    expect(events.filter((e) => e.kind === 'page_fetched')).toHaveLength(1);
  });
});

describe('ping', () => {
  it('succeeds on a gecko_says body', async () => {
    script = sequence(json({ gecko_says: '(V3) To the Moon!' }));
    const { client, events } = makeClient({ plan: 'pro' });
    await expect(client.ping()).resolves.toBeUndefined();
    expect(requests[0]!.path).toBe('/api/v3/ping');
    expect(requests[0]!.headers['x-cg-pro-api-key']).toBe(KEY);
    expect(events).toContainEqual(expect.objectContaining({ kind: 'ping_ok', attempts: 1 }));
  });

  it('fails with a specific error on a body without gecko_says', async () => {
    script = sequence(json({ hello: 'world' }));
    const { client } = makeClient();
    const error = await caught(client.ping());
    expect(error).toMatchObject({ code: 'coingecko_ping_unexpected_body', retryable: false });
    expect(error.message).toContain('gecko_says');
  });

  it('reports an error envelope from ping', async () => {
    script = sequence(envelope(10002, 'Missing API key', 401));
    const { client } = makeClient();
    const error = await caught(client.ping());
    expect(error).toMatchObject({ code: 'coingecko_api_error', retryable: false });
    expect(error.message).toContain('COINGECKO_API_KEY');
  });

  it('retries a 502 on ping', async () => {
    script = sequence({ status: 502, body: '<html>Bad Gateway</html>' }, json({ gecko_says: 'ok' }));
    const { client, clock } = makeClient();
    await client.ping();
    expect(requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([500]);
  });
});
