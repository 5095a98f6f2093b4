import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { bundleFunctions, filesCompiledAtStart } from '../../infra/bundle.js';
import { REPO_ROOT } from '../lib/fixtures.js';
import { compare, figure, type Figure } from '../lib/report.js';
import { repeat, summarise } from '../lib/stats.js';

const FRAMEWORK_MAIN = join(REPO_ROOT, 'node_modules/@google-cloud/functions-framework/build/src/main.js');

/** What Pulumi sets on both functions; nothing here is ever called (see `firstAnswer`). */
const ENV = {
  PIPELINE_ENGINE: 'gcp',
  GCP_PROJECT: 'bench-project',
  RAW_BUCKET: 'bench-bucket',
  EVENTS_TOPIC: 'bench-topic',
  BQ_DATASET: 'bench_dataset',
  BQ_LOCATION: 'EU',
  COINGECKO_PLAN: 'keyless',
  NODE_ENV: 'production',
};

/**
 * The request each function answers first. Both go through the function's real start (its
 * clients are built, and their SDKs imported, before the request is looked at) and are answered
 * without any network call: extract gets a slot that is not a time (400), load a Pub/Sub message
 * that is not a run event (acknowledged as poison).
 */
const REQUESTS: Record<string, RequestInit & { path: string }> = {
  extract: { path: '/?slot=not-a-time', method: 'POST' },
  load: {
    path: '/',
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-id': '1',
      'ce-source': '//pubsub.googleapis.com/projects/bench-project/topics/bench-topic',
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-specversion': '1.0',
    },
    body: JSON.stringify({
      message: { data: Buffer.from('not a run event').toString('base64'), messageId: '1' },
    }),
  },
  bare: { path: '/', method: 'POST' },
};

const BARE = `import * as functions from '@google-cloud/functions-framework';
functions.http('bare', (_req, res) => { res.status(400).send('bare'); });
`;

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

/**
 * Milliseconds from spawning the Functions Framework (its own main.js, as Cloud Run starts it) on
 * `source` to the first HTTP answer to the target's request.
 */
async function firstAnswer(source: string, target: string): Promise<number> {
  const port = await freePort();
  const request = REQUESTS[target]!;
  const began = performance.now();
  const child = spawn(
    process.execPath,
    [FRAMEWORK_MAIN, `--target=${target}`, `--source=${source}`, `--port=${port}`],
    {
      cwd: source,
      env: { PATH: process.env.PATH ?? '', HOME: source, ...ENV },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const deadline = began + 20_000;
    while (performance.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${target} exited: ${stderr.slice(0, 500)}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}${request.path}`, request);
        await res.arrayBuffer();
        const ms = performance.now() - began;
        if (res.status >= 500) throw new Error(`${target} answered ${res.status}: ${stderr.slice(0, 500)}`);
        return ms;
      } catch (error) {
        if (!(error instanceof TypeError)) throw error; // not listening yet: fetch failed to connect
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    throw new Error(`${target} did not answer within 20 s: ${stderr.slice(0, 500)}`);
  } finally {
    child.kill();
  }
}

/** Cold start of each deployed function against a bare Functions Framework function; bundle sizes. */
export async function coldStartFigures(reps: number): Promise<Figure[]> {
  const root = join(REPO_ROOT, 'node_modules', '.cache', 'cmp-bench');
  const bundleDir = join(root, 'bundle');
  const bareDir = join(root, 'bare');
  rmSync(bundleDir, { recursive: true, force: true });
  const bundle = await bundleFunctions({ outDir: bundleDir });
  mkdirSync(bareDir, { recursive: true });
  writeFileSync(join(bareDir, 'index.js'), BARE);
  writeFileSync(join(bareDir, 'package.json'), JSON.stringify({ type: 'module', main: 'index.js' }));

  const bare = await repeat(reps, () => firstAnswer(bareDir, 'bare'));
  const figures: Figure[] = [];
  for (const target of ['extract', 'load']) {
    const value = await repeat(reps, () => firstAnswer(bundle.dir, target));
    figures.push(
      figure({
        id: `cold-start-${target}`,
        label: `cold start, ${target}`,
        unit: 'ms',
        value,
        comparisons: [compare(value, 'bare Functions Framework function', bare, { maxRatio: 1.5 })],
        note: `process start to first answer (${REQUESTS[target]!.method} ${REQUESTS[target]!.path}), bundle served by functions-framework main.js`,
      }),
    );
  }
  // What each cold start compiles: the entry (config, zod) and, on the first request, the
  // function's own chunk and its clients (infra/bundle.ts, filesCompiledAtStart).
  const kib = (files: string[]) =>
    files.reduce((sum, f) => sum + statSync(join(bundle.dir, f)).size, 0) / 1024;
  for (const target of ['extract', 'load'] as const) {
    const { start, firstRequest } = filesCompiledAtStart(bundle, target);
    figures.push(
      figure({
        id: `bundle-size-${target}`,
        label: `bundle compiled by a cold start of ${target}`,
        unit: 'KiB',
        value: summarise([kib([...start, ...firstRequest])]),
        note: `${Math.round(kib(start))} KiB before the first request (index.js and its static imports), ${Math.round(kib(firstRequest))} KiB on it (the function's code and clients); esbuild bundle from infra/bundle.ts, split and minified, only the Functions Framework left out`,
      }),
    );
  }
  return figures;
}
