import { execFile, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/twin-harness.js';

/** The CLI as a newcomer runs it: the bin script, a fresh data folder, offline. */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'crypto-pipeline.js');
const run = promisify(execFile);

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run('node', [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const error = e as { code: number; stdout: string; stderr: string };
    return { code: error.code, stdout: error.stdout, stderr: error.stderr };
  }
}

let dir: string;
beforeAll(() => {
  dir = tempDir('cmp-cli-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('crypto-pipeline CLI', () => {
  it('runs the pipeline offline on the simulator and prints a summary', async () => {
    const r = await cli(['run', '--data-dir', dir, '--slot', '2026-11-21T05:07:00Z']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'coingecko_usd_20261121T050000Z: extracted 250 records in 1 page(s); loaded 250 rows, rejected 0',
    );
    expect(r.stdout).toMatch(/1 run\(s\): 1 ok, 0 failed; 250 fact rows loaded/);
    expect(existsSync(join(dir, 'warehouse.duckdb'))).toBe(true);
    expect(
      existsSync(
        join(
          dir,
          'lake/raw/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/coingecko_usd_20261121T050000Z.json',
        ),
      ),
    ).toBe(true);
  }, 60_000);

  it('runs the same slot again without loading anything twice', async () => {
    const r = await cli(['run', '--data-dir', dir, '--slot', '2026-11-21T05:14:00Z', '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ failed: 0, rowsLoaded: 0 });
    expect(summary.runs[0]).toMatchObject({
      extract: { status: 'already_extracted' },
      load: { status: 'already_loaded' },
    });
  }, 60_000);

  it('reads the data folder from PIPELINE_DATA_DIR and reports status as JSON', async () => {
    const r = await cli(['status', '--json'], { PIPELINE_DATA_DIR: dir });
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status.tables).toEqual(
      expect.arrayContaining([
        { table: 'fact_market_snapshot', rows: 250 },
        { table: 'dim_asset', rows: 250 },
        { table: 'ops_run', rows: 1 },
      ]),
    );
    expect(status).toMatchObject({
      runs: { loaded: 1, failed: 0 },
      freshness: { newestLoadedSlot: '2026-11-21T05:00:00.000Z' },
      events: { pending: 0, deadLettered: 0 },
    });
    expect(status.freshness.ageSeconds).toBeGreaterThan(0);
    expect(status.recentRuns[0]).toEqual({
      runId: 'coingecko_usd_20261121T050000Z',
      slotTs: '2026-11-21T05:00:00.000Z',
      status: 'loaded',
      recordsIn: 250,
      recordsLoaded: 250,
      recordsRejected: 0,
      errorCode: null,
    });
  }, 60_000);

  it('prints a human status with freshness and recent runs', async () => {
    const r = await cli(['status', '--data-dir', dir]);
    expect(r.stdout).toMatch(/freshness: newest loaded slot 2026-11-21T05:00:00.000Z/);
    expect(r.stdout).toMatch(
      /coingecko_usd_20261121T050000Z\s+2026-11-21T05:00:00Z\s+loaded\s+250\s+250\s+0/,
    );
  }, 60_000);

  it('answers read-only SQL and refuses writes', async () => {
    const q = await cli([
      'query',
      '--data-dir',
      dir,
      '--json',
      "select count(*) as n from v_market_snapshot where symbol_at_slot = symbol and vs_currency = 'usd'",
    ]);
    expect(q.code).toBe(0);
    expect(JSON.parse(q.stdout)).toEqual([{ n: 250 }]);
    const w = await cli(['query', '--data-dir', dir, 'delete from fact_market_snapshot']);
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/read-only/i);
  }, 60_000);

  it('pings the market API', async () => {
    const r = await cli(['ping']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^coingecko keyless plan at http:\/\/127\.0\.0\.1:\d+: ok \(\d+ ms\)$/m);
  }, 60_000);

  it('explains bad input clearly', async () => {
    const noWarehouse = await cli(['status', '--data-dir', join(dir, 'nothing-here')]);
    expect(noWarehouse.code).toBe(1);
    expect(noWarehouse.stderr).toMatch(/no warehouse at .*run the pipeline first/);

    const badConfig = await cli(['run', '--data-dir', dir, '--source', 'live'], {
      COINGECKO_PLAN: 'pro',
      COIN_LIMIT: 'many',
    });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/COINGECKO_API_KEY: required for the pro plan/);
    expect(badConfig.stderr).toMatch(/COIN_LIMIT/);

    const badSource = await cli(['run', '--data-dir', dir, '--source', 'ftp']);
    expect(badSource.stderr).toMatch(/--source must be live, simulator or replay:DIR/);

    const badSlot = await cli(['run', '--data-dir', dir, '--slot', 'soon']);
    expect(badSlot.stderr).toMatch(/--slot must be an ISO 8601 time/);

    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
  }, 60_000);
});

describe('crypto-pipeline start', () => {
  it('runs the current slot at once, keeps to the schedule, and stops cleanly on SIGINT', async () => {
    const dataDir = tempDir('cmp-start-');
    try {
      const child = spawn(
        'node',
        [BIN, 'start', '--data-dir', dataDir, '--schedule', '* * * * *', '--cadence', '1'],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH, HOME: process.env.HOME },
        },
      );
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      const deadline = Date.now() + 30_000;
      while (!/extracted 250 records in 1 page\(s\); loaded 250 rows/.test(stdout) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const stopping = Date.now();
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      // Stopped by the signal, not by the next fire up to a minute later.
      expect(Date.now() - stopping).toBeLessThan(10_000);
      expect(stdout).toMatch(/running simulator on schedule "\* \* \* \* \*" \(UTC, 1-minute slots\)/);
      expect(stdout).toMatch(
        /coingecko_usd_\d{8}T\d{4}00Z: extracted 250 records in 1 page\(s\); loaded 250 rows, rejected 0/,
      );
      expect(stdout.trim().split('\n').at(-1)).toBe('stopped');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
