import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CoinGeckoClientOptions } from '../../functions/src/extract/coingecko-client.js';
import {
  caught,
  json,
  makeClientFor,
  sequence,
  startScriptedServer,
  usd,
  type Recorded,
  type Script,
  type ScriptedServer,
} from '../support/coingecko-stub.js';
import { CORPUS_DIR, requireCorpus } from '../support/corpus.js';

/**
 * The client against real CoinGecko bodies from the corpus, served by the same scripted local
 * server as tests/integration/coingecko-client.test.ts.
 */

requireCorpus();

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

describe('terminal errors', () => {
  it('turns the real CoinGecko 403 body into a terminal error carrying its message', async () => {
    const file = path.join(
      CORPUS_DIR,
      'errors/error_403_endpoint-temporarily-unavailable_2023-03-30_RAWCURL_madjin.json',
    );
    const raw = readFileSync(file);
    const corpusMessage = (JSON.parse(raw.toString()) as { status: { error_message: string } }).status
      .error_message;
    script = sequence({ status: 403, headers: { 'content-type': 'application/json' }, body: raw });
    const { client } = makeClient();
    const error = await caught(client.fetchMarkets(usd(100, 100)));
    expect(error.retryable).toBe(false);
    expect(error.code).toBe('coingecko_api_error');
    expect(error.message).toContain(corpusMessage.trim());
    expect(error.status).toBe(403);
    expect(error.bodyBytes!.equals(raw)).toBe(true);
    expect(error.body).toBe(raw.toString('utf8'));
    expect(error.details).toMatchObject({ status: 403, errorCode: 403, page: 1, attempts: 1 });
    expect(error.details.bodySnippet).toBe(raw.toString('utf8').slice(0, 200));
    expect(requests).toHaveLength(1);
  });
});

describe('ping', () => {
  it('accepts the ping body saved in the corpus', async () => {
    script = sequence({
      status: 200,
      body: readFileSync(path.join(CORPUS_DIR, 'errors/ping_go-gecko_fixture_2019.json')),
    });
    const { client } = makeClient();
    await expect(client.ping()).resolves.toBeUndefined();
  });
});
