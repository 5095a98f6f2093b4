import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  bundleArchive,
  bundleFunctions,
  filesCompiledAtStart,
  hashBundleDir,
  REPO_ROOT,
  type FunctionBundle,
} from '../../infra/bundle.js';

/**
 * The function bundle (infra/bundle.ts): what it contains, that its hash follows its content, and
 * that the real Functions Framework serves both entry points from it, including a Pub/Sub push
 * envelope turned into a CloudEvent, as the deployed functions will see them.
 */
const FIXTURE_ENTRY = 'tests/infra/fixtures/functions-entry.ts';
const made: string[] = [];
const tmp = (label: string) => {
  const dir = mkdtempSync(join(tmpdir(), `bundle-${label}-`));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
const frameworkVersion = (
  JSON.parse(
    readFileSync(join(REPO_ROOT, 'node_modules/@google-cloud/functions-framework/package.json'), 'utf8'),
  ) as { version: string }
).version;

let fixture: FunctionBundle;
beforeAll(async () => {
  fixture = await bundleFunctions({ outDir: join(tmp('fixture'), 'out'), entry: FIXTURE_ENTRY });
});

describe('bundleFunctions', () => {
  it('writes index.js, package.json and sql/ next to it', () => {
    expect(fixture.files).toEqual(
      expect.arrayContaining(['index.js', 'package.json', 'sql/load/merge_run.sql']),
    );
    expect(fixture.files.filter((f) => !f.startsWith('sql/'))).toEqual(['index.js', 'package.json']);
    expect(readFileSync(join(fixture.dir, 'sql/load/merge_run.sql'), 'utf8')).toBe(
      readFileSync(join(REPO_ROOT, 'sql/load/merge_run.sql'), 'utf8'),
    );
  });

  it('bundles everything but @google-cloud/*, which package.json pins to the installed versions', () => {
    const pkg = JSON.parse(readFileSync(join(fixture.dir, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(pkg).toMatchObject({
      type: 'module',
      main: 'index.js',
      dependencies: { '@google-cloud/functions-framework': frameworkVersion },
    });
    expect(Object.keys(pkg.dependencies as object)).toEqual(['@google-cloud/functions-framework']);
    const code = readFileSync(join(fixture.dir, 'index.js'), 'utf8');
    const imports = [...code.matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((m) => m[1]!);
    expect(imports.filter((i) => !isBuiltin(i))).toEqual(['@google-cloud/functions-framework']);
    expect(code).toContain('createRequire'); // bundled CommonJS may require() Node built-ins
  });

  it('hashes the content: same source, same hash; changed code or SQL, new hash', async () => {
    const root = tmp('hash');
    mkdirSync(join(root, 'sql', 'load'), { recursive: true });
    writeFileSync(join(root, 'sql', 'load', 'merge_run.sql'), 'select 1\n');
    const entry = join(root, 'entry.ts');
    const build = (n: number) =>
      bundleFunctions({ outDir: join(root, `out${n}`), entry, sqlDir: join(root, 'sql'), rootDir: root });
    writeFileSync(entry, "export const version: string = 'one';\n");
    const first = await build(1);
    const again = await build(2);
    writeFileSync(entry, "export const version: string = 'two';\n");
    const changedCode = await build(3);
    writeFileSync(join(root, 'sql', 'load', 'merge_run.sql'), 'select 2\n');
    const changedSql = await build(4);
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(again.hash).toBe(first.hash);
    expect(changedCode.hash).not.toBe(first.hash);
    expect(changedSql.hash).not.toBe(changedCode.hash);
    expect(hashBundleDir(join(root, 'out4')).hash).toBe(changedSql.hash);
  });

  it('turns the bundle into an archive with one asset per file', async () => {
    const assets = await bundleArchive(fixture).assets;
    expect(Object.keys(assets).sort()).toEqual(fixture.files);
  });

  it('refuses to empty a directory that is not a bundle, and to hash one', async () => {
    const dir = tmp('foreign');
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    await expect(bundleFunctions({ outDir: dir, entry: FIXTURE_ENTRY })).rejects.toThrow(/refusing to empty/);
    expect(() => hashBundleDir(dir)).toThrow(/index.js is missing/);
  });

  it('bundles the real functions/src/index.ts', async () => {
    const bundle = await bundleFunctions({ outDir: join(tmp('real'), 'out') });
    expect(bundle.files).toEqual(
      expect.arrayContaining(['index.js', 'package.json', 'sql/load/merge_run.sql']),
    );
    const pkg = JSON.parse(readFileSync(join(bundle.dir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies['@google-cloud/functions-framework']).toBe(frameworkVersion);
    for (const name of Object.keys(pkg.dependencies)) expect(name).toMatch(/^@google-cloud\//);

    // What a cold start compiles: index.js and the chunks it imports statically, then on the first
    // request the function's own chunk and the client chunks it imports (issue 12). A static import
    // of got or of a client from code both functions share brings them back into every start.
    const compiled = (target: 'extract' | 'load', part: 'start' | 'firstRequest' | 'both') => {
      const files = filesCompiledAtStart(bundle, target);
      const list = part === 'both' ? [...files.start, ...files.firstRequest] : files[part];
      return list.map((f) => readFileSync(join(bundle.dir, f), 'utf8')).join('\n');
    };
    const absent = (code: string, markers: string[]) =>
      expect(markers.filter((m) => code.includes(m))).toEqual([]);
    // Markers: got's home page, the Storage client's resumable upload, the Google clients' header
    // prefix, and the load's MERGE script.
    const start = compiled('load', 'start');
    expect(compiled('extract', 'start')).toBe(start); // the same entry for both
    expect(start).toContain('PIPELINE_ENGINE'); // the config is parsed at start
    absent(start, ['sindresorhus/got', 'ResumableUpload', 'gccl', 'merge_run']);
    // load reads the lake over REST: the Storage client is not among what it compiles.
    const load = compiled('load', 'both');
    expect(load).toContain('merge_run');
    absent(load, ['ResumableUpload', 'sindresorhus/got']);
    const extract = compiled('extract', 'both');
    expect(extract).toContain('ResumableUpload');
    absent(extract, ['merge_run']);
    // got's cache, DNS cache and HTTP/2 modules are stand-ins (infra/bundle-shims/got-unused.ts).
    expect(extract).toContain('got-unused.ts');
    absent(extract, ['Http2OverHttp', 'keyv']);
  });
});

describe('the Functions Framework serving the bundle', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill();
  });

  const freePort = () =>
    new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });

  /** Starts the framework as Cloud Run would, on a copy of the bundle with the repository's node_modules. */
  async function serve(target: string): Promise<{ url: string; output: () => string }> {
    const dir = tmp('serve');
    cpSync(fixture.dir, dir, { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const port = await freePort();
    const main = join(REPO_ROOT, 'node_modules/@google-cloud/functions-framework/build/src/main.js');
    // An HTTP-deployed function gets signature type http; the declarative registration decides.
    const child = spawn(
      process.execPath,
      [main, `--target=${target}`, '--signature-type=http', `--source=${dir}`, `--port=${port}`],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!out.includes('Serving function')) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`framework did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { url: `http://127.0.0.1:${port}`, output: () => out };
  }

  it('serves extract over HTTP', async () => {
    const { url } = await serve('extract');
    const res = await fetch(`${url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sql: true, got: 'function' });
  });

  it('turns a Pub/Sub push to load into a CloudEvent naming the topic', async () => {
    const { url, output } = await serve('load');
    const envelope = {
      message: {
        data: Buffer.from('{"run_id":"r1"}').toString('base64'),
        messageId: '1',
        publishTime: '2026-01-01T00:00:00Z',
      },
      subscription: 'projects/demo-project/subscriptions/crypto-dev-events-to-load',
    };
    const res = await fetch(`${url}/projects/demo-project/topics/crypto-dev-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(envelope),
    });
    expect(res.status).toBe(204);
    const deadline = Date.now() + 5_000;
    while (!output().includes('"fixture":"load"') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const line = output()
      .split('\n')
      .find((l) => l.includes('"fixture":"load"'))!;
    expect(JSON.parse(line)).toEqual({
      fixture: 'load',
      source: '//pubsub.googleapis.com/projects/demo-project/topics/crypto-dev-events',
      type: 'google.cloud.pubsub.topic.v1.messagePublished',
      data: '{"run_id":"r1"}',
    });
  });
});
