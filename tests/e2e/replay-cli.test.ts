import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rawObjectKey } from '../../functions/src/core/lake-layout.js';
import { encodeRawObject, type RawManifest } from '../../functions/src/core/raw-object.js';
import { runIdentity } from '../../functions/src/core/run-identity.js';
import { FolderLake } from '../../twin/src/adapters/folder-lake.js';
import { main } from '../../twin/src/cli/main.js';
import { createMarketSimulator } from '../../twin/src/market/market-simulator.js';
import { twinPaths } from '../../twin/src/twin-paths.js';
import { tempDir } from '../support/twin-harness.js';

/**
 * `crypto-pipeline replay` as a user runs it, on a lake written directly (raw objects as the
 * extract writes them, from the simulator): Ctrl-C stops it between objects with a summary that
 * says how far it got, and a second replay finishes the rest without doubling anything.
 */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'crypto-pipeline.js');
const OBJECTS = 24;
const COINS = 100;

let dir: string;
beforeAll(async () => {
  dir = tempDir('cmp-replay-cli-');
  const lake = new FolderLake(twinPaths(dir).lake);
  const simulator = createMarketSimulator();
  const first = Date.parse('2026-11-21T00:00:00Z');
  for (let i = 0; i < OBJECTS; i += 1) {
    const run = runIdentity(new Date(first + i * 15 * 60_000), 'usd', 15);
    const body = Buffer.from(JSON.stringify(simulator.marketAt(run.slot).slice(0, COINS)));
    const manifest: RawManifest = {
      schemaVersion: 1,
      runId: run.runId,
      source: 'coingecko',
      endpoint: '/api/v3/coins/markets',
      vsCurrency: 'usd',
      slot: run.slot.toISOString(),
      market: 'simulator',
      request: { coinLimit: COINS, perPage: COINS },
      pages: [
        {
          page: 1,
          url: 'http://127.0.0.1/api/v3/coins/markets',
          status: 200,
          fetchedAt: run.slot.toISOString(),
          durationMs: 1,
          attempts: 1,
          records: COINS,
          bytes: body.length,
        },
      ],
      recordCount: COINS,
      extractedAt: run.slot.toISOString(),
    };
    await lake.createOnly(rawObjectKey(run), encodeRawObject(manifest, [body]), 'application/json');
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function count(): Promise<number> {
  const out: string[] = [];
  await main(
    ['query', '--data-dir', dir, '--json', 'select count(*) as n from fact_market_snapshot'],
    {},
    {
      out: (l) => out.push(l),
      err: () => undefined,
    },
  );
  return (JSON.parse(out.join('\n')) as { n: number }[])[0]!.n;
}

describe('replay in a real process', () => {
  it('Ctrl-C stops after the object in flight, says how far it got, and exits 1', async () => {
    const child = spawn('node', [BIN, 'replay', '--data-dir', dir], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!signalled && /\[2\/24\]/.test(stdout)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const started = Date.now();
    const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? -1)));
    expect(signalled).toBe(true);
    expect(code).toBe(1);
    expect(stderr).toMatch(/SIGINT: stopping after the object in flight/);
    const stopped = /stopped after (\d+) of 24; replay again to finish/.exec(stdout);
    expect(stopped).not.toBeNull();
    const done = Number(stopped![1]);
    expect(done).toBeLessThan(OBJECTS);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await count()).toBe(done * COINS);
  }, 60_000);

  it('replay again finishes the rest; a third replay loads nothing', async () => {
    const before = await count();
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: () => undefined };
    expect(await main(['replay', '--data-dir', dir, '--json'], {}, io)).toBe(0);
    const second = JSON.parse(out.join('\n')) as {
      loaded: number;
      alreadyLoaded: number;
      rowsLoaded: number;
    };
    expect(second.loaded + second.alreadyLoaded).toBe(OBJECTS);
    expect(second.rowsLoaded).toBe(OBJECTS * COINS - before);
    expect(await count()).toBe(OBJECTS * COINS);
    out.length = 0;
    expect(await main(['replay', '--data-dir', dir, '--json'], {}, io)).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({
      found: OBJECTS,
      loaded: 0,
      alreadyLoaded: OBJECTS,
      rowsLoaded: 0,
    });
    expect(await count()).toBe(OBJECTS * COINS);
  }, 60_000);
});
