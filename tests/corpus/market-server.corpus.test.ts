import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMarketSimulator } from '../../twin/src/market/market-simulator.js';
import type { MarketServer } from '../../twin/src/market/market-server.js';
import { openReplay, type ReplaySource } from '../../twin/src/market/replay-source.js';
import { simulatorResponder } from '../../twin/src/market/simulator-responder.js';
import type { CoinMarket } from '../../twin/src/market/types.js';
import { DAILY_DIR as DAILY, requireCorpus } from '../support/corpus.js';
import { closeServersAfterAll, getJson, MARKETS_PATH, serve } from '../support/market-servers.js';

// The market server against real CoinGecko files from the corpus; the simulator-only tests are in
// tests/integration/market-server.test.ts.

requireCorpus();

const FORBIDDEN_FILE = 'markets_usd_top100_2023-03-30T00-54-42.json';
const REAL_DAILY = [
  'markets_usd_top100_2023-03-20T00-08-51.json',
  'markets_usd_top100_2024-03-30T00-43-20.json',
  'markets_usd_top100_2026-04-30T02-29-21.json',
];
const SLOT = new Date('2026-11-21T05:00:00Z');
const MARKETS = MARKETS_PATH;

closeServersAfterAll();

describe('market server over the simulator', () => {
  let server: MarketServer;

  beforeAll(async () => {
    const responder = simulatorResponder(createMarketSimulator());
    responder.setTime(SLOT);
    server = await serve(responder);
  });

  test('simulated records have the same keys, in the same order, as a real corpus record', async () => {
    const real = JSON.parse(await readFile(join(DAILY, REAL_DAILY[2]!), 'utf8')) as Record<string, unknown>[];
    const { body } = await getJson(`${server.url}${MARKETS}&per_page=5`);
    for (const coin of body as CoinMarket[]) expect(Object.keys(coin)).toEqual(Object.keys(real[0]!));
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
