import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StarBatch } from '../../functions/src/core/warehouse.js';
import { buildStarBatch } from '../../functions/src/transform/star-rows.js';
import { createMarketSimulator } from '../../twin/src/market/market-simulator.js';

export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

/** The real daily top-100 responses (tests/support/corpus.ts reads the same place). */
export const CORPUS_DAILY_DIR = join(
  resolve(REPO_ROOT, process.env.COINGECKO_CORPUS_DIR ?? '../shared/corpus/coingecko'),
  'markets-daily-top100',
);

export const HOUR = 3_600_000;
export const BENCH_EPOCH = Date.UTC(2026, 0, 1);

/** Simulator snapshots, one per hourly slot, written as replay files into `dir`. */
export function writeSimulatorSnapshots(dir: string, count: number, coins: number): string[] {
  mkdirSync(dir, { recursive: true });
  const simulator = createMarketSimulator({ coins });
  const names: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const name = `snapshot_${String(i).padStart(5, '0')}.json`;
    writeFileSync(join(dir, name), JSON.stringify(simulator.marketAt(new Date(BENCH_EPOCH + i * HOUR))));
    names.push(name);
  }
  return names;
}

/**
 * A replay folder (under the system's temporary folder, never the project) of the first `limit`
 * corpus files, all when undefined. Copied, not linked: the replay source reads regular files only.
 */
export function copyCorpusFiles(dir: string, limit?: number): string[] {
  mkdirSync(dir, { recursive: true });
  const names = readdirSync(CORPUS_DAILY_DIR)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .slice(0, limit);
  for (const name of names) copyFileSync(join(CORPUS_DAILY_DIR, name), join(dir, name));
  return names;
}

export const corpusAvailable = (): boolean => existsSync(CORPUS_DAILY_DIR);

/** The star batch one run of the simulator at slot `i` would load (what `load` hands the warehouse). */
export function simulatorBatch(
  coins: number,
  i: number,
  simulator = createMarketSimulator({ coins }),
): StarBatch {
  const slot = new Date(BENCH_EPOCH + i * HOUR);
  const runId = `bench-${i}`;
  const records = simulator.marketAt(slot);
  return buildStarBatch(
    {
      manifest: {
        schemaVersion: 1,
        runId,
        source: 'coingecko',
        endpoint: 'coins/markets',
        vsCurrency: 'usd',
        slot: slot.toISOString(),
        market: 'simulator',
        request: { coinLimit: coins, perPage: 250 },
        pages: [],
        recordCount: records.length,
        extractedAt: slot.toISOString(),
      },
      pages: [records],
    },
    { bucket: 'bench', key: `raw/${runId}.json`, generation: '1' },
    slot,
  );
}
