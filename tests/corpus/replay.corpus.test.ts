import { copyFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { checkMarketRecord } from '../../functions/src/transform/market-record.js';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { runCommand } from '../../twin/src/cli/run-command.js';
import { twinPaths } from '../../twin/src/twin.js';
import { DAILY_DIR, requireCorpus } from '../support/corpus.js';
import { memoryLogger, tempDir, testConfig } from '../support/twin-harness.js';

/**
 * The whole daily corpus (1,136 real /coins/markets responses saved between 2023 and 2026) pushed
 * through the twin: the acceptance test of the local pipeline against the API as it really behaved.
 */
requireCorpus();
const FILES = readdirSync(DAILY_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const ERROR_FILE = 'markets_usd_top100_2023-03-30T00-54-42.json';

function corpusRecords(): { file: string; records: unknown[] }[] {
  return FILES.filter((f) => f !== ERROR_FILE).map((file) => ({
    file,
    records: JSON.parse(readFileSync(join(DAILY_DIR, file), 'utf8')) as unknown[],
  }));
}

describe('validation against every real record', () => {
  it('accepts all 113,500 records of the 1,135 data files', () => {
    let accepted = 0;
    const rejected: string[] = [];
    for (const { file, records } of corpusRecords()) {
      for (const record of records) {
        const check = checkMarketRecord(record);
        if (check.ok) accepted += 1;
        else rejected.push(`${file}: ${check.reason}`);
      }
    }
    expect(rejected).toEqual([]);
    expect(accepted).toBe(113_500);
  });
});

describe('replaying the daily corpus through the twin', () => {
  const dir = tempDir('cmp-corpus-');
  // One-minute slots: no two corpus files share a slot, so every file is its own run.
  const config = testConfig(dir, { CADENCE_MINUTES: '1', COIN_LIMIT: '250', PER_PAGE: '250' });
  const lines: string[] = [];
  const replay = () =>
    runCommand({
      config,
      source: { kind: 'replay', dir: DAILY_DIR },
      json: false,
      logger: memoryLogger(),
      out: (line) => lines.push(line),
    });
  let warehouse: DuckDbWarehouse | undefined;
  const query = async (sql: string) => {
    warehouse ??= await DuckDbWarehouse.openReadOnly(twinPaths(dir).warehouse);
    return warehouse.query(sql);
  };
  const scalar = async (sql: string) => Number(Object.values((await query(sql))[0]!)[0]);
  afterAll(async () => {
    await warehouse?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads every valid record once and records the 403 body as a failed run', async () => {
    expect(await replay()).toBe(1); // one run failed: the exit code says so
    expect(lines.at(-2)).toMatch(/^1136 run\(s\): 1135 ok, 1 failed; 113500 fact rows loaded/);
    expect(await scalar('select count(*) from fact_market_snapshot')).toBe(113_500);
    expect(await scalar('select count(distinct coin_id) from fact_market_snapshot')).toBe(324);
    expect(
      await scalar('select count(*) from (select distinct asset_key, slot_ts from fact_market_snapshot)'),
    ).toBe(113_500);
    expect(await scalar('select count(*) from ops_rejected_record')).toBe(0);
    expect(
      await scalar(`select count(*) from ops_run where status = 'loaded' and records_loaded = 100`),
    ).toBe(1135);

    const [failed] = await query(`select * from ops_run where status = 'failed'`);
    expect(failed).toMatchObject({
      run_id: 'coingecko_usd_20230330T005400Z', // slot from the file name: an error body has no last_updated
      error_code: 'coingecko_api_error',
      error_message: expect.stringContaining('This endpoint is temporarily unavailable'),
    });
    expect(await scalar(`select count(*) from ops_run`)).toBe(1136);
  }, 600_000);

  it('keeps the failing body in the lake', () => {
    const failures = join(dir, 'lake/failures/coingecko/coins_markets/vs_currency=usd/dt=2023-03-30');
    const [runDir] = readdirSync(failures);
    const [attempt] = readdirSync(join(failures, runDir!));
    const record = JSON.parse(readFileSync(join(failures, runDir!, attempt!), 'utf8'));
    expect(record.body).toBe(readFileSync(join(DAILY_DIR, ERROR_FILE), 'utf8'));
  });

  it('turns the 23 real name and symbol changes into asset versions', async () => {
    const changes = await query(`
      with versions as (
        select coin_id, symbol, name, valid_from,
               lag(symbol) over (partition by asset_key order by valid_from) as previous_symbol,
               lag(name) over (partition by asset_key order by valid_from) as previous_name
        from dim_asset
      )
      select coin_id, previous_symbol, previous_name, symbol, name from versions
      where previous_symbol is not null and (previous_symbol <> symbol or previous_name <> name)
      order by valid_from`);
    expect(changes).toHaveLength(23);
    expect(changes).toEqual(
      expect.arrayContaining([
        {
          coin_id: 'usd-coin',
          previous_symbol: 'usdc',
          previous_name: 'USD Coin',
          symbol: 'usdc',
          name: 'USDC',
        },
        { coin_id: 'dydx', previous_symbol: 'dydx', previous_name: 'dYdX', symbol: 'ethdydx', name: 'dYdX' },
      ]),
    );
    // Names over time (image-only versions collapsed): Huobi, renamed HTX, and back.
    const huobi = await query(`
      select name from (
        select name, valid_from, lag(name) over (order by valid_from) as previous_name
        from v_dim_asset where coin_id = 'huobi-token'
      ) as v
      where previous_name is null or previous_name <> name
      order by valid_from`);
    expect(huobi.map((r) => r.name)).toEqual(['Huobi', 'HTX', 'Huobi']);
    // "As it was" and "as it is" differ for facts from before a rename.
    const [usdc] = await query(`
      select name_at_slot, name from v_market_snapshot
      where coin_id = 'usd-coin' and slot_ts < '2023-09-01' limit 1`);
    expect(usdc).toEqual({ name_at_slot: 'USD Coin', name: 'USDC' });
  });

  it('adds no rows when the whole corpus is replayed a second time', async () => {
    const before = await query(`
      select (select count(*) from fact_market_snapshot) as facts, (select count(*) from dim_asset) as assets,
             (select count(*) from dim_date) as dates, (select count(*) from ops_run) as runs`);
    await warehouse?.close();
    warehouse = undefined;
    lines.length = 0;
    expect(await replay()).toBe(1);
    expect(lines.at(-2)).toMatch(/^1136 run\(s\): 1135 ok, 1 failed; 0 fact rows loaded/);
    expect(
      lines.filter((l) => l.includes('already in the lake (event re-published); already loaded')),
    ).toHaveLength(1135);
    const after = await query(`
      select (select count(*) from fact_market_snapshot) as facts, (select count(*) from dim_asset) as assets,
             (select count(*) from dim_date) as dates, (select count(*) from ops_run) as runs`);
    expect(after).toEqual(before);
  }, 600_000);
});

describe('two saved responses that fall in one slot', () => {
  it('are one run at a 15-minute cadence: the second is recognised, nothing is loaded twice', async () => {
    const dir = tempDir('cmp-corpus-slot-');
    const files = tempDir('cmp-corpus-files-');
    try {
      // Newest last_updated 01:34 and 01:38 on 2023-03-20: both in the 01:30 slot.
      for (const f of [
        'markets_usd_top100_2023-03-20T01-35-20.json',
        'markets_usd_top100_2023-03-20T01-39-30.json',
      ]) {
        copyFileSync(join(DAILY_DIR, f), join(files, f));
      }
      const lines: string[] = [];
      const code = await runCommand({
        config: testConfig(dir, { COIN_LIMIT: '250', PER_PAGE: '250' }),
        source: { kind: 'replay', dir: files },
        json: false,
        logger: memoryLogger(),
        out: (line) => lines.push(line),
      });
      expect(code).toBe(0);
      expect(lines[0]).toMatch(/coingecko_usd_20230320T013000Z: extracted 100 records.*loaded 100 rows/);
      expect(lines[1]).toMatch(/coingecko_usd_20230320T013000Z: already in the lake/);
      const warehouse = await DuckDbWarehouse.openReadOnly(twinPaths(dir).warehouse);
      const [row] = await warehouse.query('select count(*) as n from fact_market_snapshot');
      await warehouse.close();
      expect(row).toEqual({ n: 100 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(files, { recursive: true, force: true });
    }
  });
});
