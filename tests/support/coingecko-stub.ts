/**
 * A scripted stand-in for the CoinGecko API on 127.0.0.1 and a client wired to it with a fake
 * clock, so throttling, backoff and budgets are asserted exactly and take no real time. Shared by
 * the client's integration tests and its corpus tests.
 *
 * Usage, at the top level of a test file:
 *   let script: Script;
 *   let stub: ScriptedServer;
 *   beforeEach(async () => {
 *     script = sequence(json([]));
 *     stub = await startScriptedServer((request, index) => script(request, index));
 *   });
 *   afterEach(() => stub.close());
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Plan } from '../../functions/src/config.js';
import type { Clock, MarketSource } from '../../functions/src/core/ports.js';
import { CoinGeckoError } from '../../functions/src/extract/errors.js';
import {
  createCoinGeckoClient,
  type ClientProgress,
  type CoinGeckoClientOptions,
} from '../../functions/src/extract/coingecko-client.js';

export const KEY = 'CG-s3cr3tK3yV4lu3';

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Drop the connection without answering. */
  destroy?: boolean;
  /** Never answer (the client's timeout has to fire). */
  hang?: boolean;
}

export interface Recorded {
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export type Script = (request: Recorded, index: number) => Reply;

/** Replies in order; the last one repeats for any further request. */
export function sequence(...replies: Reply[]): Script {
  return (_request, index) => replies[Math.min(index, replies.length - 1)]!;
}

export const json = (value: unknown, status = 200, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(value),
});

export interface ScriptedServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Every request received, in order. */
  requests: Recorded[];
  close(): Promise<void>;
}

/** Answers each request with `script(request, index)`. */
export async function startScriptedServer(script: Script): Promise<ScriptedServer> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const recorded = { path: url.pathname, query: url.searchParams, headers: req.headers };
    requests.push(recorded);
    const reply = script(recorded, requests.length - 1);
    if (reply.destroy) {
      req.socket.destroy();
      return;
    }
    if (reply.hang) return;
    res.writeHead(reply.status ?? 200, reply.headers ?? {});
    res.end(reply.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      // Keep-alive and hanging sockets would otherwise hold close() open.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Time moves only when the client sleeps; every sleep is recorded. */
export class FakeClock implements Clock {
  ms = Date.parse('2026-11-21T05:00:00Z');
  readonly sleeps: number[] = [];
  now(): Date {
    return new Date(this.ms);
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.ms += ms;
  }
}

export interface Harness {
  client: MarketSource;
  clock: FakeClock;
  events: ClientProgress[];
}

/** A client for `baseUrl` with a fake clock, fixed jitter and recorded progress events. */
export function makeClientFor(baseUrl: string, overrides: Partial<CoinGeckoClientOptions> = {}): Harness {
  const clock = new FakeClock();
  const events: ClientProgress[] = [];
  const plan: Plan = overrides.plan ?? 'keyless';
  const client = createCoinGeckoClient({
    plan,
    apiKey: plan === 'keyless' ? undefined : KEY,
    baseUrl,
    // 60000/min = 1ms spacing: small enough that single-page tests see no throttle sleeps.
    callsPerMinute: 60_000,
    requestTimeoutMs: 5_000,
    retryBudgetMs: 120_000,
    clock,
    random: () => 0.5,
    onProgress: (e) => events.push(e),
    ...overrides,
  });
  return { client, clock, events };
}

export const usd = (coinLimit: number, perPage = 250) => ({ vsCurrency: 'usd', coinLimit, perPage });

export async function caught(promise: Promise<unknown>): Promise<CoinGeckoError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CoinGeckoError);
    return error as CoinGeckoError;
  }
  throw new Error('expected the call to fail');
}
