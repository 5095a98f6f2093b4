import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackfillRequestSchema } from '../../functions/src/history/backfill-request.js';
import { main } from '../../twin/src/cli/main.js';
import {
  createMarketSimulator,
  simulatorResponder,
  type SimulatorResponder,
} from '../../twin/src/market/index.js';
import { closeServersAfterAll, serve } from '../support/market-servers.js';
import { tempDir } from '../support/twin-harness.js';

/**
 * The acceptance of the backfill, on the real bin: interrupted by kill -9 and by Ctrl-C and started
 * again, every point is loaded exactly once; a second backfill of the same range adds nothing and
 * makes no call; a request the plan cannot serve exits 2 before any call. The market is the
 * simulator behind a local server the CLI reaches as `--source live` on the pro plan at 240 calls
 * a minute, so a backfill takes seconds and can be interrupted mid-way.
 */
closeServersAfterAll();

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'crypto-pipeline.js');
const DAY = 86_400_000;
const day = (daysAgo: number) =>
  new Date(Math.floor(Date.now() / DAY) * DAY - daysAgo * DAY).toISOString().slice(0, 10);

const COINS = createMarketSimulator().ids.slice(0, 3);
/** 190 days hourly: 90 + 90 + 10 days per coin, 9 chunks. */
const RANGE = ['--from', day(200), '--to', day(11), '--granularity', 'hourly'];
const EXPECTED_POINTS = COINS.length * 190 * 24;
const CHUNKS = 9;

let market: SimulatorResponder;
let env: Record<string, string>;
beforeAll(async () => {
  market = simulatorResponder(createMarketSimulator());
  const server = await serve(market);
  env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    COINGECKO_PLAN: 'pro',
    COINGECKO_API_KEY: 'CG-e2e-test-key',
    COINGECKO_BASE_URL: server.url,
    COINGECKO_CALLS_PER_MINUTE: '240',
  };
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The bin as a user runs it; `until` sends `signal` once stdout matches. */
function backfill(
  dataDir: string,
  extra: string[] = [],
  interrupt?: { until: RegExp; signal: NodeJS.Signals },
) {
  const args = [
    BIN,
    'backfill',
    '--coins',
    COINS.join(','),
    ...RANGE,
    '--source',
    'live',
    '--data-dir',
    dataDir,
  ];
  const child = spawn('node', [...args, ...extra], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (interrupt && !sent && interrupt.until.test(stdout)) {
      sent = true;
      child.kill(interrupt.signal);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise<Result>((done) =>
    child.on('close', (code, signal) =>
      done({ code: code ?? (signal === 'SIGKILL' ? 137 : -1), stdout, stderr }),
    ),
  );
}

/** Rows, distinct grains and loaded chunks, read through the CLI like a user would. */
async function counts(dataDir: string) {
  const out: string[] = [];
  const code = await main(
    [
      'query',
      '--data-dir',
      dataDir,
      '--json',
      `select (select count(*) from fact_price_history) as n,
              (select count(*) from (select distinct asset_key, vs_currency, granularity, ts from fact_price_history)) as grains,
              (select count(*) from ops_backfill_chunk where status = 'loaded') as chunks`,
    ],
    {},
    { out: (l) => out.push(l), err: () => undefined },
  );
  expect(code).toBe(0);
  return (JSON.parse(out.join('\n')) as { n: number; grains: number; chunks: number }[])[0]!;
}

describe('backfill, interrupted and started again, loads every point exactly once', () => {
  test('kill -9 mid-way, then again: all points once; a second backfill adds nothing, calls nothing', async () => {
    const dataDir = tempDir('cmp-backfill-kill-');
    try {
      const killed = await backfill(dataDir, [], { until: /\[3\/9\]/, signal: 'SIGKILL' });
      expect(killed.code).toBe(137);
      expect(killed.stdout).not.toMatch(/done:/);

      const before = market.requestCount;
      const resumed = await backfill(dataDir);
      expect(resumed.stderr).toBe('');
      expect(resumed.code).toBe(0);
      // The lake is the checkpoint: the chunks the killed process fetched are not fetched again
      // (loaded already, or loaded now from the lake when the kill came before their load).
      for (const n of [1, 2, 3]) {
        expect(resumed.stdout).toMatch(
          new RegExp(`\\[${n}/9\\] .*: (already loaded|already in the lake, loading it again)`),
        );
      }
      expect(market.requestCount - before).toBeLessThanOrEqual(CHUNKS - 3);
      expect(resumed.stdout).toMatch(
        new RegExp(`done: 9 of 9 chunk\\(s\\).*fact_price_history holds ${EXPECTED_POINTS} for this range`),
      );
      expect(await counts(dataDir)).toEqual({ n: EXPECTED_POINTS, grains: EXPECTED_POINTS, chunks: CHUNKS });

      const requests = market.requestCount;
      const again = await backfill(dataDir, ['--json']);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({
        interrupted: false,
        chunks: { handled: CHUNKS, already_loaded: CHUNKS, fetched: 0 },
        loads: { pointsInserted: 0 },
        rowsInRange: EXPECTED_POINTS,
      });
      expect(market.requestCount).toBe(requests);
      expect(await counts(dataDir)).toEqual({ n: EXPECTED_POINTS, grains: EXPECTED_POINTS, chunks: CHUNKS });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  test('Ctrl-C stops after the chunk in flight (exit 130); started again it finishes', async () => {
    const dataDir = tempDir('cmp-backfill-int-');
    try {
      const stopped = await backfill(dataDir, [], { until: /\[2\/9\]/, signal: 'SIGINT' });
      expect(stopped.code).toBe(130);
      expect(stopped.stderr).toMatch(/SIGINT: stopping after the chunk in flight/);
      expect(stopped.stdout).toMatch(/interrupted after [2-4] of 9 chunk\(s\)/);
      expect(stopped.stdout).toMatch(/run the same command again to finish/);
      const partial = await counts(dataDir);
      expect(partial.n).toBeLessThan(EXPECTED_POINTS);
      expect(partial.n).toBe(partial.grains);

      const resumed = await backfill(dataDir);
      expect(resumed.code).toBe(0);
      expect(await counts(dataDir)).toEqual({ n: EXPECTED_POINTS, grains: EXPECTED_POINTS, chunks: CHUNKS });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('the plan check refuses an impossible request before any call', () => {
  test.each([
    [
      'beyond the keyless history window',
      { COINGECKO_PLAN: '', COINGECKO_API_KEY: '', COINGECKO_CALLS_PER_MINUTE: '' },
      ['--coins', 'bitcoin', '--from', day(800), '--to', day(1)],
      /keyless plan serves about the last 365 days of history: --from .* \(CoinGecko would answer error 10012\)/,
    ],
    [
      'over the demo plan monthly budget',
      { COINGECKO_PLAN: 'demo', COINGECKO_CALLS_PER_MINUTE: '' },
      [
        '--coins',
        Array.from({ length: 2_500 }, (_, i) => `coin-${i}`).join(','),
        '--from',
        day(364),
        '--to',
        day(1),
        '--granularity',
        'hourly',
      ],
      /demo plan monthly budget exceeded: 2500 coin\(s\) .* = 12,500 calls > 10,000 calls per month/,
    ],
  ])(
    '%s: exit 2, no call',
    async (_what, overrides, args, message) => {
      const dataDir = tempDir('cmp-backfill-plan-');
      try {
        const requests = market.requestCount;
        const r: Result = await new Promise((done) => {
          const child = spawn('node', [BIN, 'backfill', '--source', 'live', '--data-dir', dataDir, ...args], {
            cwd: ROOT,
            env: Object.fromEntries(Object.entries({ ...env, ...overrides }).filter(([, v]) => v !== '')),
          });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
        });
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(market.requestCount).toBe(requests);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

describe('bad backfill usage exits 2 and says what is wrong', () => {
  test.each([
    [
      ['backfill', '--from', '2026-01-01', '--to', '2026-02-01'],
      /backfill needs either --coins bitcoin,ethereum or --top N/,
    ],
    [
      ['backfill', '--coins', 'bitcoin', '--top', '3', '--from', '2026-01-01', '--to', '2026-02-01'],
      /not both/,
    ],
    [['backfill', '--coins', 'bitcoin', '--to', '2026-02-01'], /backfill needs --from YYYY-MM-DD/],
    [
      ['backfill', '--coins', 'bitcoin', '--from', '2026-02-30', '--to', '2026-03-01'],
      /--from must be a date such as 2024-01-31 \(UTC\), got "2026-02-30"/,
    ],
    [
      ['backfill', '--coins', 'bitcoin', '--from', '2026-03-01', '--to', '2026-02-01'],
      /--to 2026-02-01 is before --from 2026-03-01/,
    ],
    [
      ['backfill', '--top', '0', '--from', '2026-01-01', '--to', '2026-02-01'],
      /--top must be a whole number from 1 to 1000, got "0"/,
    ],
    [
      [
        'backfill',
        '--coins',
        'bitcoin',
        '--from',
        '2026-01-01',
        '--to',
        '2026-02-01',
        '--granularity',
        'minutely',
      ],
      /--granularity must be daily or hourly, got "minutely"/,
    ],
    [
      ['backfill', '--coins', 'bitcoin,,eth', '--from', '2026-01-01', '--to', '2026-02-01'],
      /--coins must list CoinGecko ids separated by commas/,
    ],
    [
      ['backfill', '--coins', 'bitcoin', '--from', '2026-01-01', '--to', '2026-02-01', '--slot', 'x'],
      /backfill does not take --slot/,
    ],
    [
      ['backfill', '--top', '3', '--from', '2026-11-01', '--to', '2026-11-02', '--source', `replay:${ROOT}`],
      /--top needs a market to rank coins/,
    ],
    [['run', '--coins', 'bitcoin'], /run does not take --coins/],
  ])('%j', async (argv, message) => {
    const err: string[] = [];
    const code = await main(
      [...argv, '--data-dir', tempDir('cmp-backfill-usage-')],
      {},
      { out: () => undefined, err: (l) => err.push(l) },
    );
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });
});

describe('--print-requests: the input of the cloud fan-out', () => {
  test('prints one valid backfill request per planned chunk and fetches nothing', async () => {
    const out: string[] = [];
    const requests = market.requestCount;
    const code = await main(
      ['backfill', '--coins', COINS.join(','), ...RANGE, '--source', 'live', '--print-requests'],
      env,
      { out: (l) => out.push(l), err: () => undefined },
    );
    expect(code).toBe(0);
    expect(out).toHaveLength(CHUNKS);
    const parsed = out.map((line) => BackfillRequestSchema.parse(JSON.parse(line)));
    expect(parsed[0]).toMatchObject({ kind: 'backfill_chunk', coinId: COINS[0], granularity: 'hourly' });
    expect(market.requestCount).toBe(requests);
  });
});

describe('every configured quote currency (VS_CURRENCIES)', () => {
  const TWO = COINS.slice(0, 2);
  const DAYS = ['--from', day(40), '--to', day(11)];
  async function run(currencies: string, extra: string[]) {
    const out: string[] = [];
    const code = await main(
      ['backfill', '--coins', TWO.join(','), ...DAYS, '--source', 'simulator', ...extra],
      { VS_CURRENCIES: currencies },
      { out: (l) => out.push(l), err: () => undefined },
    );
    return { code, out };
  }

  test('usd,eur: one chunk series per coin and currency, the plan counts them all, points for both', async () => {
    const usd = await run('usd', ['--print-requests']);
    const both = await run('usd,eur', ['--print-requests']);
    expect(usd.out).toHaveLength(TWO.length);
    expect(both.out).toHaveLength(2 * usd.out.length);
    const requests = both.out.map((line) => BackfillRequestSchema.parse(JSON.parse(line)));
    expect(new Set(requests.map((r) => `${r.coinId} ${r.vsCurrency}`)).size).toBe(2 * TWO.length);

    const dataDir = tempDir();
    try {
      const { code, out } = await run('usd,eur', ['--data-dir', dataDir, '--json']);
      expect(code).toBe(0);
      const summary = JSON.parse(out.join('\n')) as {
        plan: { chunks: number; calls: number };
        rowsInRange: number;
      };
      expect(summary.plan).toMatchObject({ chunks: 2 * TWO.length, calls: 2 * TWO.length });
      // 30 days (day(40) to day(11) inclusive) per coin and currency.
      expect(summary.rowsInRange).toBe(2 * TWO.length * 30);
      const rows: string[] = [];
      await main(
        [
          'query',
          '--data-dir',
          dataDir,
          '--json',
          'select vs_currency, count(*) as n from fact_price_history group by 1 order by 1',
        ],
        {},
        { out: (l) => rows.push(l), err: () => undefined },
      );
      expect(JSON.parse(rows.join('\n'))).toEqual([
        { vs_currency: 'eur', n: TWO.length * 30 },
        { vs_currency: 'usd', n: TWO.length * 30 },
      ]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
