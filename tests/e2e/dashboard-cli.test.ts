import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { viewsUsed } from '../../dashboards/definition.js';
import { tempDir } from '../support/twin-harness.js';

/** The dashboard commands as a user runs them: the bin script, a fresh data folder. */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'crypto-pipeline.js');
const ENV = { PATH: process.env.PATH, HOME: process.env.HOME };

async function cli(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', [BIN, ...args], {
      cwd: ROOT,
      env: ENV,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const error = e as { code: number; stdout: string; stderr: string };
    return { code: error.code, stdout: error.stdout, stderr: error.stderr };
  }
}

/** Resolves with the dashboard URL the command prints; rejects if it exits first. */
function printedUrl(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise<string>((resolveUrl, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (match) resolveUrl(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    // Fail well inside the test's time, so the finally block still stops the child.
    setTimeout(() => reject(new Error(`no dashboard URL printed within 30 s: ${out}`)), 30_000).unref();
  });
}

/**
 * Ctrl-C, and waits for the exit. `start` exits only when its scheduler's pending sleep ends (up
 * to one cadence, here a minute: the sleep is not cancelled on abort), so this waits up to 70 s.
 */
async function stop(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 70_000);
  await exited;
  clearTimeout(timer);
}

let dir: string;
beforeAll(() => {
  dir = tempDir('cmp-dash-cli-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('crypto-pipeline looker-studio-url', () => {
  it('prints the Linking API URL for the project and dataset', async () => {
    const r = await cli(['looker-studio-url', '--project', 'my-project-1', '--dataset', 'market_data']);
    expect(r.code).toBe(0);
    const url = new URL(r.stdout.trim());
    expect(url.host).toBe('lookerstudio.google.com');
    for (const view of viewsUsed()) {
      expect(url.searchParams.get(`ds.${view}.projectId`)).toBe('my-project-1');
      expect(url.searchParams.get(`ds.${view}.datasetId`)).toBe('market_data');
      expect(url.searchParams.get(`ds.${view}.tableId`)).toBe(view);
    }
  }, 60_000);

  it('exits 2 without a project', async () => {
    const r = await cli(['looker-studio-url']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs --project/);
  }, 60_000);
});

describe('crypto-pipeline dashboard', () => {
  it.each([['abc'], ['65536'], ['8.5'], ['']])(
    'exits 2 on --port %s',
    async (port) => {
      const r = await cli(['dashboard', '--port', port, '--data-dir', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--port must be a whole number from 0 to 65535/);
    },
    60_000,
  );

  it('with --port 0 picks a free port, prints the URL and serves the page until stopped', async () => {
    expect((await cli(['run', '--data-dir', dir])).code).toBe(0);
    const child = spawn('node', [BIN, 'dashboard', '--port', '0', '--data-dir', dir], {
      cwd: ROOT,
      env: ENV,
    });
    try {
      const url = await printedUrl(child);
      expect(url).not.toMatch(/:0\/$/);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      const movers = (await (await fetch(`${url}api/charts/top_movers`)).json()) as { rows: unknown[] };
      expect(movers.rows.length).toBeGreaterThan(0);
    } finally {
      await stop(child);
    }
    expect(child.exitCode).toBe(0);
  }, 120_000);
});

describe('crypto-pipeline start (npm run demo)', () => {
  it('serves the dashboard while it runs, from the warehouse it writes', async () => {
    const dataDir = tempDir('cmp-start-dash-');
    const child = spawn(
      'node',
      [
        BIN,
        'start',
        '--source',
        'simulator',
        '--schedule',
        '* * * * *',
        '--cadence',
        '1',
        '--data-dir',
        dataDir,
      ],
      { cwd: ROOT, env: ENV },
    );
    try {
      const url = await printedUrl(child);
      // The first run happens at once; its slot shows up in the freshness chart.
      let rows: unknown[] = [];
      for (let i = 0; i < 100 && rows.length === 0; i++) {
        rows = ((await (await fetch(`${url}api/charts/freshness`)).json()) as { rows: unknown[] }).rows;
        if (rows.length === 0) await new Promise((r) => setTimeout(r, 200));
      }
      expect(rows).toHaveLength(1);
    } finally {
      await stop(child);
      rmSync(dataDir, { recursive: true, force: true });
    }
    expect(child.exitCode).toBe(0);
  }, 120_000);
});
