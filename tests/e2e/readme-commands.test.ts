import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../twin/src/cli/main.js';
import { tempDir } from '../support/twin-harness.js';

/**
 * The README's example commands, run as written on simulator data: an example that errors or
 * returns nothing is a broken promise to a new user.
 */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const queries = [...readme.matchAll(/npm run pipeline -- query "([^"]+)"/g)].map((m) => m[1]!);

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {}, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

let dir: string;
beforeAll(async () => {
  dir = tempDir('cmp-readme-');
  expect((await cli(['run', '--data-dir', dir])).code).toBe(0);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README examples', () => {
  it('has example queries', () => {
    expect(queries.length).toBeGreaterThan(0);
  });

  it.each(queries)('%s returns rows', async (sql) => {
    const r = await cli(['query', '--data-dir', dir, '--json', sql]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).length).toBeGreaterThan(0);
  });

  it('status, as in the quick start, reports the run', async () => {
    const r = await cli(['status', '--data-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/runs: 1 loaded, 0 failed/);
  });
});
