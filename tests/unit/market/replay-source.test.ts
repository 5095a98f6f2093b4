import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReplay } from '../../../twin/src/market/replay-source.js';
import type { MarketQuery } from '../../../twin/src/market/types.js';

const query = (over: Partial<MarketQuery> = {}): MarketQuery => ({
  vsCurrency: 'usd',
  order: 'market_cap_desc',
  perPage: 100,
  page: 1,
  sparkline: false,
  ...over,
});

// Deliberately odd formatting (spaces, exponent, trailing newline) to prove bytes pass through untouched.
const ARRAY_BODY =
  '[{"id":"a","last_updated":"2024-05-01T10:00:00.000Z","total_supply": 2.1e+15},\n' +
  ' {"id":"b","last_updated":"2024-05-01T10:02:30.500Z"},\n' +
  ' {"id":"c","last_updated":null}]\n';
const FORBIDDEN = '{"status":{"error_code":403,"error_message":"This endpoint is temporarily unavailable"}}';

describe('replay source', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'replay-unit-'));
    const files: Record<string, string> = {
      'markets_2024-05-01T10-05-00.json': ARRAY_BODY,
      'markets_2024-05-02T00-00-00.json': FORBIDDEN,
      'markets_2024-05-03T00-00-00.json': '{"status":{"error_code":10002,"error_message":"Missing API key"}}',
      'markets_2024-05-04T00-00-00.json': '{"error":{"status":{"error_code":10012,"error_message":"range"}}}',
      'markets_2024-05-05T00-00-00.json': 'error code: 1015',
      'markets_2024-05-06T00-00-00.json': '[]',
      'no-timestamp.json': '{"status":{"error_code":429,"error_message":"slow down"}}',
      'bad-date_2024-02-31T00-00-00.json': '[]',
      'notes.txt': 'not a response',
    };
    for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body);
    await mkdir(join(dir, 'nested.json'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('lists the .json files by name, nothing else', async () => {
    const replay = await openReplay(dir);
    expect(replay.files).toEqual([
      'bad-date_2024-02-31T00-00-00.json',
      'markets_2024-05-01T10-05-00.json',
      'markets_2024-05-02T00-00-00.json',
      'markets_2024-05-03T00-00-00.json',
      'markets_2024-05-04T00-00-00.json',
      'markets_2024-05-05T00-00-00.json',
      'markets_2024-05-06T00-00-00.json',
      'no-timestamp.json',
    ]);
    await expect(openReplay(join(dir, 'missing'))).rejects.toThrow(/cannot open replay folder/);
  });

  test('answers 503 until a file is selected, and refuses files outside the list', async () => {
    const replay = await openReplay(dir);
    expect(replay.selected).toBeUndefined();
    expect(replay.markets(query()).status).toBe(503);
    await expect(replay.select('notes.txt')).rejects.toThrow(/not a \.json file/);
    await expect(replay.select('../x.json')).rejects.toThrow(/not a \.json file/);
  });

  test('serves an array verbatim when one page holds it, slices otherwise, [] past the end', async () => {
    const replay = await openReplay(dir);
    await replay.select('markets_2024-05-01T10-05-00.json');
    const whole = replay.markets(query());
    expect(whole.status).toBe(200);
    expect(Buffer.from(whole.body).toString()).toBe(ARRAY_BODY);
    const second = replay.markets(query({ perPage: 2, page: 2 }));
    expect(JSON.parse(second.body.toString())).toEqual([{ id: 'c', last_updated: null }]);
    expect(JSON.parse(replay.markets(query({ perPage: 2, page: 1 })).body.toString())).toHaveLength(2);
    expect(replay.markets(query({ page: 2 })).body).toBe('[]');
  });

  test('error envelopes keep their status (CoinGecko codes become 500); anything else is a 200', async () => {
    const replay = await openReplay(dir);
    const serve = async (name: string) => {
      await replay.select(name);
      const r = replay.markets(query({ page: 3 }));
      return [r.status, r.body.toString()];
    };
    expect(await serve('markets_2024-05-02T00-00-00.json')).toEqual([403, FORBIDDEN]);
    expect((await serve('markets_2024-05-03T00-00-00.json'))[0]).toBe(500);
    expect((await serve('markets_2024-05-04T00-00-00.json'))[0]).toBe(200);
    expect(await serve('markets_2024-05-05T00-00-00.json')).toEqual([200, 'error code: 1015']);
  });

  test('slot time: newest last_updated, else the name timestamp, else a clear error', async () => {
    const replay = await openReplay(dir);
    expect((await replay.slotTimeOf('markets_2024-05-01T10-05-00.json')).toISOString()).toBe(
      '2024-05-01T10:02:30.500Z',
    );
    expect((await replay.slotTimeOf('markets_2024-05-02T00-00-00.json')).toISOString()).toBe(
      '2024-05-02T00:00:00.000Z',
    );
    expect((await replay.slotTimeOf('markets_2024-05-06T00-00-00.json')).toISOString()).toBe(
      '2024-05-06T00:00:00.000Z',
    );
    await expect(replay.slotTimeOf('no-timestamp.json')).rejects.toThrow(
      /cannot tell the slot of no-timestamp\.json/,
    );
    await expect(replay.slotTimeOf('bad-date_2024-02-31T00-00-00.json')).rejects.toThrow(
      /cannot tell the slot/,
    );
  });
});
