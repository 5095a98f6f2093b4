import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeRawObject } from '../../functions/src/core/raw-object.js';
import { createMarketSimulator } from '../../twin/src/market/market-simulator.js';
import { compileChild } from '../lib/compile.js';
import { BENCH_EPOCH } from '../lib/fixtures.js';
import { compare, figure, type Figure } from '../lib/report.js';
import { repeat } from '../lib/stats.js';

const run = promisify(execFile);

/** A raw object of `coins` coins in pages of 250, as extract writes it to the lake. */
function rawObject(coins: number): Buffer {
  const slot = new Date(BENCH_EPOCH).toISOString();
  const records = createMarketSimulator({ coins }).marketAt(new Date(BENCH_EPOCH));
  const bodies: Buffer[] = [];
  for (let i = 0; i < records.length; i += 250)
    bodies.push(Buffer.from(JSON.stringify(records.slice(i, i + 250))));
  return encodeRawObject(
    {
      schemaVersion: 1,
      runId: 'bench-memory',
      source: 'coingecko',
      endpoint: 'coins/markets',
      vsCurrency: 'usd',
      slot,
      market: 'simulator',
      request: { coinLimit: coins, perPage: 250 },
      pages: [],
      recordCount: records.length,
      extractedAt: slot,
    },
    bodies,
  );
}

/** Peak RSS (MiB) of a `load` of a `coins`-coin snapshot in a child process, and of the floor. */
export async function loadMemoryFigure(coins: number, reps: number): Promise<Figure> {
  const child = await compileChild('bench/children/load-once.ts');
  const work = mkdtempSync(join(tmpdir(), 'cmp-bench-mem-'));
  try {
    const raw = join(work, 'raw.json');
    writeFileSync(raw, rawObject(coins));
    const measure = (floor: boolean) =>
      repeat(reps, async (i) => {
        const warehouse = join(work, `w-${floor ? 'floor' : 'load'}-${i}.duckdb`);
        const { stdout } = await run(process.execPath, [
          child,
          raw,
          warehouse,
          ...(floor ? ['--floor'] : []),
        ]);
        return (JSON.parse(stdout) as { maxRssKiB: number }).maxRssKiB / 1024;
      });
    const load = await measure(false);
    const floor = await measure(true);
    return figure({
      id: 'load-peak-rss',
      label: `load peak RSS, ${coins.toLocaleString('en')}-coin snapshot`,
      unit: 'MiB',
      value: load,
      comparisons: [compare(load, 'same process, warehouse opened only', floor)],
      absoluteTarget: { maxValue: 244 },
      note:
        'child process (compiled): decode the raw object, build the star batch, load it into a fresh ' +
        'warehouse file; process.resourceUsage().maxRSS. Target 256 MB = 244 MiB',
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
