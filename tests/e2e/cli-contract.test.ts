import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../twin/src/cli/main.js';
import { warehouseFileReader } from '../../twin/src/dashboard/data-source.js';
import { startDashboardServer } from '../../twin/src/dashboard/server.js';
import { scheduleRecordPath } from '../../twin/src/schedule-gaps.js';
import { json, sequence, startScriptedServer } from '../support/coingecko-stub.js';
import { tempDir } from '../support/twin-harness.js';

/**
 * The CLI's contract (README: commands, exit codes, JSON shapes): in-process through `main` where
 * the process does not matter, as a real process where it does (hangs, signals, pipes, locks).
 */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'crypto-pipeline.js');
const BASE_ENV = { PATH: process.env.PATH, HOME: process.env.HOME };

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(
  argv: string[],
  env: Record<string, string> = {},
  stopAfterFirstLine = false,
): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  let stop: (() => void) | undefined;
  const code = await main(argv, env, {
    out: (line) => {
      out.push(line);
      if (stopAfterFirstLine) stop?.();
    },
    err: (line) => err.push(line),
    onStop: (s) => {
      stop = s;
      return () => undefined;
    },
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** The bin as a user runs it; resolves when it exits (it must: jest's timeout is the hang detector). */
function spawnCli(argv: string[], env: Record<string, string> = {}) {
  const child = spawn('node', [BIN, ...argv], { cwd: ROOT, env: { ...BASE_ENV, ...env } });
  const result = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (result.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (result.stderr += d.toString()));
  const exited = new Promise<Result>((done) =>
    child.on('close', (code) => done({ code: code ?? -1, ...result })),
  );
  return { child, result, exited };
}

async function waitFor(what: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const seconds = (since: number) => (Date.now() - since) / 1000;

let dir: string;
beforeAll(async () => {
  dir = tempDir('cmp-contract-');
  const r = await cli(['run', '--data-dir', dir, '--slot', '2026-11-21T05:07:00Z']);
  expect(r.code).toBe(0);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('1. early errors end the process', () => {
  it('run with a data folder that is a file exits 2 at once and says so', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const started = Date.now();
    const r = await spawnCli(['run', '--data-dir', file]).exited;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `the data folder ${file} (--data-dir or PIPELINE_DATA_DIR) is a file, not a directory`,
    );
    expect(seconds(started)).toBeLessThan(20);
  }, 30_000);
});

describe('2, 11. a running pipeline: readers see its data, others fail fast, SIGTERM stops it', () => {
  let holder: ReturnType<typeof spawnCli>;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = tempDir('cmp-holder-');
    // Hourly: without a stop that clears the sleep, the process would live until the next hour.
    holder = spawnCli(['start', '--data-dir', dataDir, '--schedule', '0 * * * *']);
    await waitFor(() => /loaded 250 rows/.test(holder.result.stdout), 40_000);
  }, 60_000);
  afterAll(() => {
    holder.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('status and query read the copy the running pipeline publishes', async () => {
    // The copy follows the loads by a couple of seconds at most.
    let status: Result = await cli(['status', '--data-dir', dataDir, '--json']);
    const deadline = Date.now() + 10_000;
    while (JSON.parse(status.stdout).runs.loaded === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      status = await cli(['status', '--data-dir', dataDir, '--json']);
    }
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ readFrom: 'snapshot', runs: { loaded: 1 } });
    expect(status.stderr).toMatch(/a running pipeline holds the warehouse; reading the copy it published/);
    const query = await cli([
      'query',
      '--data-dir',
      dataDir,
      '--json',
      'select count(*) as n from v_latest_snapshot',
    ]);
    expect(query.code).toBe(0);
    expect(JSON.parse(query.stdout)).toEqual([{ n: 250 }]);
  });

  it('the dashboard of another process reads the published copy too', async () => {
    const server = await startDashboardServer({
      source: warehouseFileReader(dataDir),
      port: 0,
      vsCurrency: 'usd',
    });
    try {
      const response = await fetch(`${server.url.replace(/\/$/, '')}/api/meta`);
      expect(response.status).toBe(200);
      const meta = (await response.json()) as { assets: unknown[] };
      expect(meta.assets.length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('a second pipeline on the same folder fails with the lock error and exits', async () => {
    const started = Date.now();
    const r = await spawnCli(['run', '--data-dir', dataDir]).exited;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/another crypto-pipeline process has it open/);
    // It closed what it opened (the market server) itself: the exit watchdog did not have to.
    expect(r.stderr).not.toMatch(/left running/);
    expect(seconds(started)).toBeLessThan(20);
  }, 30_000);

  it('SIGTERM stops start within seconds, not at the next fire', async () => {
    const started = Date.now();
    holder.child.kill('SIGTERM');
    const r = await holder.exited;
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('stopped');
    expect(r.stderr).toMatch(/SIGTERM: stopping after the run in flight/);
    expect(seconds(started)).toBeLessThan(10);
    // Stopped, the warehouse itself is readable again.
    const status = await cli(['status', '--data-dir', dataDir, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ readFrom: 'warehouse' });
  }, 30_000);
});

describe('2. SIGTERM during the first run finishes that run, then stops', () => {
  it('loads the run in flight and exits 0', async () => {
    const dataDir = tempDir('cmp-term-');
    try {
      const p = spawnCli(['start', '--data-dir', dataDir, '--schedule', '0 * * * *']);
      await waitFor(() => /Ctrl-C to stop/.test(p.result.stdout), 30_000);
      p.child.kill('SIGTERM');
      const r = await p.exited;
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/extracted 250 records in 1 page\(s\); loaded 250 rows/);
      const status = await cli(['status', '--data-dir', dataDir, '--json']);
      expect(JSON.parse(status.stdout)).toMatchObject({ runs: { loaded: 1, failed: 0 } });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('3. ping fails fast without a network and shows retries', () => {
  it('gives up at once when nothing listens at the API address', async () => {
    const started = Date.now();
    const r = await cli(['ping', '--source', 'live'], { COINGECKO_BASE_URL: 'http://127.0.0.1:9' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the API \(ECONNREFUSED/);
    expect(seconds(started)).toBeLessThan(5);
  });

  it('prints each retry of a transient error as it happens', async () => {
    const server = await startScriptedServer(
      sequence(
        json({ status: { error_code: 503, error_message: 'busy' } }, 503),
        json({ gecko_says: '(V3) To the Moon!' }),
      ),
    );
    try {
      const r = await cli(['ping', '--source', 'live', '--json'], { COINGECKO_BASE_URL: server.url });
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/warning: CoinGecko: attempt 1 failed \(HTTP 503 .*busy.*\); retrying in/);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, source: expect.stringContaining(server.url) });
    } finally {
      await server.close();
    }
  }, 30_000);
});

describe('4. bad usage exits 2 and says what is wrong', () => {
  it.each([
    [['run', '--slot', 'yesterday'], /--slot must be an ISO 8601 time .*"yesterday"/],
    [['run', '--source', 'foo'], /--source must be live, simulator or replay:DIR, got "foo"/],
    [['run', '--cadence', 'abc'], /--cadence must be a positive number, got "abc"/],
    [
      ['run', '--cadence', '7'],
      /CADENCE_MINUTES: cadence must be a whole number of minutes that divides 1440/,
    ],
    [['query'], /query needs SQL/],
    [['start', '--schedule', 'bogus'], /invalid cron schedule "bogus"/],
    [['start', '--schedule', '*/5 * * * *'], /fires more than once in the 15-minute slot/],
    [['run', '--source', 'replay:/no/such/folder'], /replay:\/no\/such\/folder: no such folder/],
    [['status', 'now'], /status takes no arguments, got "now"/],
    [['status', '--slot', '2026-11-21T05:00:00Z'], /status does not take --slot/],
    [['query', 'select 1', '--timeout', 'soon'], /--timeout must be a positive number/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['replay', '--from', 'yesterday'], /--from must be a UTC date such as 2026-11-21, got "yesterday"/],
    [['replay', '--to', '2026-02-30'], /--to must be a UTC date such as 2026-11-21, got "2026-02-30"/],
    [['replay', '--from', '2026-11-22', '--to', '2026-11-21'], /--from 2026-11-22 is after --to 2026-11-21/],
    [['replay', '--slot', '2026-11-21T05:00:00Z'], /replay does not take --slot/],
    [['replay', '--source', 'simulator'], /replay does not take --source/],
    [['replay', 'now'], /replay takes no arguments, got "now"/],
    [['backfill', '--from', '2026-01-01', '--to', '2026-02-01'], /backfill needs either --coins/],
    [['backfill', '--coins', 'bitcoin', '--from', 'May', '--to', '2026-02-01'], /--from must be a date/],
  ])('%j', async (argv, message) => {
    const r = await cli([...argv, '--data-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('5. a closed pipe is not a crash', () => {
  it('query | head -1 exits quietly', async () => {
    const r = await new Promise<Result>((done) => {
      const child: ChildProcessWithoutNullStreams = spawn(
        'bash',
        [
          '-c',
          `node "${BIN}" query --data-dir "${dir}" "select * from range(200000)" 2>err.txt | head -1; exit \${PIPESTATUS[0]}`,
        ],
        { cwd: dir, env: BASE_ENV },
      );
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('close', (code) =>
        done({ code: code ?? -1, stdout, stderr: readFileSync(join(dir, 'err.txt'), 'utf8') }),
      );
    });
    expect(r.stdout.trim()).toBe('range');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 30_000);
});

describe('6. messages that say what is wrong', () => {
  it('an empty replay file is called empty, once', async () => {
    const replay = join(dir, 'replay-empty');
    mkdirSync(replay, { recursive: true });
    writeFileSync(join(replay, 'markets_2026-11-21T05-00-00.json'), '');
    const r = await cli([
      'run',
      '--data-dir',
      join(dir, 'empty-data'),
      '--source',
      `replay:${replay}`,
      '--json',
    ]);
    expect(r.code).toBe(1);
    const [entry] = JSON.parse(r.stdout).runs;
    expect(entry).toMatchObject({
      runId: 'coingecko_usd_20261121T050000Z',
      error: expect.stringContaining('HTTP 200 with an empty body'),
    });
    const text = await cli(['run', '--data-dir', join(dir, 'empty-data2'), '--source', `replay:${replay}`]);
    const all = `${text.stdout}\n${text.stderr}`;
    expect(all.match(/empty body/g)).toHaveLength(1);
  }, 30_000);

  it('status on a file says it is not a directory', async () => {
    const file = join(dir, 'status-file');
    writeFileSync(file, 'x');
    const r = await cli(['status', '--data-dir', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a file, not a directory/);
  });

  it('replay without a lake exits 2, names the folder and creates nothing', async () => {
    const empty = tempDir('cmp-no-lake-');
    try {
      const r = await cli(['replay', '--data-dir', empty]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`no lake at ${join(empty, 'lake')}: nothing to replay`));
      expect(statSync(join(empty, 'warehouse.duckdb'), { throwIfNoEntry: false })).toBeUndefined();
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('replay --stack without outputs is a cloud usage error, not a twin one', async () => {
    const r = await cli(['replay', '--stack', 'dev', '--from', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/--from must be a UTC date/);
    expect(r.stdout).toMatch(/usage: crypto-pipeline replay --stack <name>/);
  });

  it('start --source live counts every currency against the plan before the first call', async () => {
    const r = await cli(['start', '--source', 'live', '--data-dir', dir], {
      VS_CURRENCIES: 'usd,eur,gbp',
      COIN_LIMIT: '500',
      COINGECKO_BASE_URL: 'http://127.0.0.1:9',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /keyless plan per-minute budget exceeded: 2 page\(s\) per run \(coinLimit 500 \/ perPage 250\) x 3 currencies = 6 calls in one minute > 5/,
    );
  });

  it('a bad number names the value', async () => {
    const r = await cli(['run', '--data-dir', dir], { COIN_LIMIT: 'abc' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/COIN_LIMIT: .*\(got "abc"\)/);
  });
});

describe('7. settings only block the commands that use them', () => {
  it('status and query ignore CADENCE_MINUTES; the simulator ignores the plan and key', async () => {
    expect((await cli(['status', '--data-dir', dir], { CADENCE_MINUTES: '7' })).code).toBe(0);
    expect((await cli(['query', '--data-dir', dir, 'select 1'], { CADENCE_MINUTES: '7' })).code).toBe(0);
    expect((await cli(['ping', '--source', 'simulator'], { COINGECKO_PLAN: 'demo' })).code).toBe(0);
    const live = await cli(['ping', '--source', 'live'], { COINGECKO_PLAN: 'demo' });
    expect(live.code).toBe(2);
    expect(live.stderr).toMatch(/COINGECKO_API_KEY: required for the demo plan/);
  }, 30_000);
});

describe('9. readable output', () => {
  it('aligns numbers right, groups digits, never prints exponents, shows dates as dates', async () => {
    const r = await cli([
      'query',
      '--data-dir',
      dir,
      "select date '2026-11-21' as day, 2.839e-9 as tiny, 1234567 as n union all select date '2026-11-22', 12.5, 3",
    ]);
    expect(r.stdout.split('\n')).toEqual([
      'day                   tiny          n',
      '----------  --------------  ---------',
      '2026-11-21  0.000000002839  1,234,567',
      '2026-11-22            12.5          3',
    ]);
  });

  it('start accepts a schedule that fires once per slot off the boundary, and speaks in sentences', async () => {
    const dataDir = tempDir('cmp-start7-');
    try {
      const r = await cli(['start', '--data-dir', dataDir, '--schedule', '7 * * * *'], {}, true);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/running simulator on schedule "7 \* \* \* \*"/);
      expect(r.stdout).toMatch(
        /Z coingecko_usd_\d{8}T\d{4}00Z: extracted 250 records in 1 page\(s\); loaded 250 rows/,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('8.1 query can only read the warehouse', () => {
  const warehouse = () => join(dir, 'warehouse.duckdb');
  it.each([
    `copy (select 1) to '${'<dir>'}/warehouse.duckdb'`,
    `copy (select 1) to '${'<dir>'}/lake/overwritten.json'`,
    "select * from read_text('/etc/passwd')",
    "select * from read_csv('/etc/passwd')",
    "select * from glob('/etc/*')",
    'install httpfs',
    'load httpfs',
    "attach '/tmp/other.duckdb'",
    'set enable_external_access = true',
    'delete from fact_market_snapshot',
  ])('refuses %s', async (template) => {
    const before = statSync(warehouse());
    const r = await cli(['query', '--data-dir', dir, template.replace('<dir>', dir)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/disabled by configuration|locked|read-only|Permission/i);
    const after = statSync(warehouse());
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
  });

  it('still answers selects over tables and views', async () => {
    const r = await cli([
      'query',
      '--data-dir',
      dir,
      '--json',
      'select count(*) as n from v_market_snapshot',
    ]);
    expect(JSON.parse(r.stdout)).toEqual([{ n: 250 }]);
  });

  it('stops a query that runs past its time limit', async () => {
    const started = Date.now();
    const r = await cli([
      'query',
      '--data-dir',
      dir,
      '--timeout',
      '0.5',
      'select count(*) from range(10000000000000)',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/query stopped after 0.5 s/);
    expect(seconds(started)).toBeLessThan(10);
  });
});

describe('8.6 missed slots are reported', () => {
  it('status lists the slots of the kept schedule that have no run', async () => {
    const dataDir = tempDir('cmp-gaps-');
    try {
      // Hourly slots: the schedule was kept from 5 hours ago; 4 and 2 hours ago ran, 5, 3 and 1 did not.
      const hour = 3_600_000;
      const base = Math.floor(Date.now() / hour) * hour;
      const at = (hoursAgo: number) => new Date(base - hoursAgo * hour).toISOString();
      for (const slot of [at(4), at(2)])
        expect((await cli(['run', '--data-dir', dataDir, '--cadence', '60', '--slot', slot])).code).toBe(0);
      writeFileSync(
        scheduleRecordPath(dataDir),
        JSON.stringify({ schedule: '0 * * * *', cadenceMinutes: 60, since: at(5) }),
      );
      const r = await cli(['status', '--data-dir', dataDir, '--json']);
      expect(JSON.parse(r.stdout).gaps).toEqual({
        schedule: '0 * * * *',
        cadenceMinutes: 60,
        from: at(5),
        expectedSlots: 5,
        missingSlots: 3,
        recent: [at(1), at(3), at(5)],
      });
      const text = await cli(['status', '--data-dir', dataDir]);
      expect(text.stdout).toMatch(
        /gaps: 3 of 5 slot\(s\) of "0 \* \* \* \*" since .* have no run \(newest: /,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('12. replay rebuilds from the lake (README: "Rebuild from the lake")', () => {
  it('replay --json: the run already in the warehouse is already loaded, nothing doubles', async () => {
    const count = async () =>
      JSON.parse(
        (await cli(['query', '--data-dir', dir, '--json', 'select count(*) as n from fact_market_snapshot']))
          .stdout,
      ) as { n: number }[];
    const before = await count();
    const r = await cli(['replay', '--data-dir', dir, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      lake: join(dir, 'lake'),
      range: { from: null, to: null },
      found: 1,
      delivered: 1,
      loaded: 0,
      alreadyLoaded: 1,
      rowsLoaded: 0,
      failed: [],
      interrupted: false,
    });
    expect(await count()).toEqual(before);
  }, 30_000);

  it('replay prints a line per object when not a terminal, then the summary', async () => {
    const r = await cli(['replay', '--data-dir', dir, '--from', '2026-11-21', '--to', '2026-11-21']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      expect.stringMatching(/^replaying 1 lake object\(s\) from .*\/lake \(dt 2026-11-21 to 2026-11-21\)$/),
      '[1/1] coingecko_usd_20261121T050000Z: already loaded',
      expect.stringMatching(
        /^1 lake object\(s\) found, 1 delivered: 0 loaded \(0 fact rows\), 1 already loaded, 0 failed, in \d+\.\d s$/,
      ),
    ]);
  }, 30_000);
});
