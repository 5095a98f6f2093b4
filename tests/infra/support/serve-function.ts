import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../infra/bundle.js';

/**
 * Serves a function bundle with the Functions Framework in a child process, the way Cloud Run
 * starts it: the framework's own loader reads the bundle's package.json `main` and finds the
 * registered target. Only the listening differs from the framework's main.js: on 127.0.0.1, not
 * every interface. The child stops itself when the test process goes away (its stdin closes) or
 * after `lifetimeMs`, so nothing outlives the test run.
 */
const LAUNCHER = `
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
const require = createRequire(import.meta.url);
const framework = join(dirname(require.resolve('@google-cloud/functions-framework')), '..', '..');
const { parseOptions } = require(join(framework, 'build/src/options.js'));
const { getUserFunction } = require(join(framework, 'build/src/loader.js'));
const { getServer } = require(join(framework, 'build/src/server.js'));
const options = parseOptions(process.argv);
const loaded = await getUserFunction(options.sourceLocation, options.target, options.signatureType);
if (!loaded) { console.error('Could not load the function'); process.exit(1); }
options.signatureType = loaded.signatureType;
getServer(loaded.userFunction, options)
  .listen(Number(options.port), '127.0.0.1', () => console.log('Serving function ' + options.target))
  .setTimeout(0);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), Number(process.env.SERVE_LIFETIME_MS)).unref();
`;

export interface ServedFunction {
  url: string;
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Starts `target` from a copy of `bundleDir` (with the repository's node_modules) and waits for it. */
export async function serveFunction(
  bundleDir: string,
  target: string,
  env: Record<string, string>,
  lifetimeMs = 120_000,
): Promise<ServedFunction> {
  const dir = mkdtempSync(join(tmpdir(), `serve-${target}-`));
  cpSync(bundleDir, dir, { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'launch.mjs'), LAUNCHER);
  const port = await freePort();
  // A clean environment: nothing of the developer's (credentials, gcloud config) leaks in.
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(dir, 'launch.mjs'),
      `--target=${target}`,
      '--signature-type=http',
      `--source=${dir}`,
      `--port=${port}`,
    ],
    {
      cwd: dir,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', HOME: dir, SERVE_LIFETIME_MS: String(lifetimeMs), ...env },
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin!.end();
      child.kill();
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!out.includes(`Serving function ${target}`)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`the Functions Framework did not start ${target}:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `http://127.0.0.1:${port}`, output: () => out, stop };
}
