#!/usr/bin/env node
// Runs the compiled CLI (dist/cli, built by `npm ci` through the `prepare` script, or `npm run build`):
// transpiling TypeScript at every call made each command spend seconds starting. When the build is
// missing, or older than a source file (an edit since the last build), it runs the TypeScript through
// tsx instead, and says so once on stderr, so a stale build never runs in place of the code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'cli', 'crypto-pipeline.js');
const SOURCES = ['twin/src', 'functions/src', 'ops', 'dashboards', 'infra'];

/** Newest modification time (ms) of a .ts file below `dir`; a few hundred stats, a few ms. */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function staleReason() {
  if (!existsSync(compiled)) return 'no compiled CLI in dist/ (npm run build makes one)';
  const built = statSync(compiled).mtimeMs;
  const sources = SOURCES.map((s) => join(root, s)).filter((s) => existsSync(s));
  if (sources.some((s) => newestSource(s) > built)) return 'dist/ is older than the sources (npm run build)';
  return undefined;
}

const reason = staleReason();
if (reason === undefined) {
  await import(pathToFileURL(compiled).href);
} else {
  process.stderr.write(`note: running the TypeScript sources through tsx: ${reason}\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'twin/src/cli/crypto-pipeline.ts')).href);
}
