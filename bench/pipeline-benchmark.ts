/**
 * Benchmark of the local twin: how fast runs go through extract -> lake -> event -> load -> DuckDB,
 * and how much memory that takes. Prints its figures; it asserts nothing (speed is measured here,
 * never in a timed test).
 *
 *   npx tsx bench/pipeline-benchmark.ts [--runs 200] [--coins 250] [--json]
 *
 * It writes `--runs` simulator snapshots (hourly slots) to a temporary replay folder, then replays
 * them twice through the real CLI code path on a fresh data folder: the first pass loads
 * everything, the second exercises the idempotent path (every run already in the lake and loaded).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../functions/src/core/logger.js';
import { parseConfig } from '../functions/src/config.js';
import { runCommand } from '../twin/src/cli/run-command.js';
import { createMarketSimulator } from '../twin/src/market/market-simulator.js';
import { DuckDbWarehouse } from '../twin/src/adapters/duckdb-warehouse.js';
import { twinPaths } from '../twin/src/twin.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    coins: { type: 'string', default: '250' },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const coins = Number(values.coins);

const work = mkdtempSync(join(tmpdir(), 'cmp-bench-'));
const replayDir = join(work, 'replay');
mkdirSync(replayDir);
const simulator = createMarketSimulator({ coins });
const start = Date.UTC(2026, 0, 1);
for (let i = 0; i < runs; i += 1) {
  const time = new Date(start + i * 3_600_000);
  writeFileSync(
    join(replayDir, `snapshot_${String(i).padStart(5, '0')}.json`),
    JSON.stringify(simulator.marketAt(time)),
  );
}

const config = parseConfig({
  PIPELINE_ENGINE: 'local',
  PIPELINE_DATA_DIR: join(work, 'data'),
  COIN_LIMIT: String(coins),
  PER_PAGE: '250',
  CADENCE_MINUTES: '60',
});

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

interface Pass {
  seconds: number;
  runsPerSecond: number;
  rowsPerSecond: number;
  extractMs: { p50: number; p95: number };
  loadMs: { p50: number; p95: number };
}

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

async function pass(): Promise<Pass> {
  let report: {
    runs: { extract?: { durationMs: number }; load?: { durationMs: number; factRowsInserted: number } }[];
  } = { runs: [] };
  const began = performance.now();
  await runCommand({
    config,
    source: { kind: 'replay', dir: replayDir },
    json: true,
    logger: silentLogger,
    out: (line) => (report = JSON.parse(line)),
  });
  const seconds = (performance.now() - began) / 1000;
  const rows = report.runs.reduce((n, r) => n + (r.load?.factRowsInserted ?? 0), 0);
  const extract = report.runs.map((r) => r.extract?.durationMs ?? 0);
  const load = report.runs.map((r) => r.load?.durationMs ?? 0);
  return {
    seconds: Number(seconds.toFixed(2)),
    runsPerSecond: Number((report.runs.length / seconds).toFixed(1)),
    rowsPerSecond: Math.round(rows / seconds),
    extractMs: { p50: percentile(extract, 50), p95: percentile(extract, 95) },
    loadMs: { p50: percentile(load, 50), p95: percentile(load, 95) },
  };
}

const openBegan = performance.now();
const warehouse = await DuckDbWarehouse.open(twinPaths(config.dataDir).warehouse);
await warehouse.close();
const coldOpenMs = Math.round(performance.now() - openBegan);

const first = await pass();
const second = await pass();
clearInterval(sampler);
const check = await DuckDbWarehouse.openReadOnly(twinPaths(config.dataDir).warehouse);
const [{ n: factRows } = { n: 0 }] = await check.query('select count(*) as n from fact_market_snapshot');
await check.close();
rmSync(work, { recursive: true, force: true });

const result = {
  runs,
  coinsPerRun: coins,
  factRows,
  warehouseColdOpenMs: coldOpenMs,
  firstReplay: first,
  secondReplayIdempotent: second,
  peakRssMiB: Math.round(peakRss / 2 ** 20),
  node: process.version,
};
if (values.json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  console.log(
    `twin benchmark: ${runs} runs x ${coins} coins (simulator snapshots replayed), node ${process.version}`,
  );
  console.log(`  warehouse cold open              ${coldOpenMs} ms`);
  for (const [label, p] of [
    ['first replay (loads everything)', first],
    ['second replay (idempotent path)', second],
  ] as const) {
    console.log(
      `  ${label.padEnd(32)} ${p.seconds} s, ${p.runsPerSecond} runs/s, ${p.rowsPerSecond} rows/s; ` +
        `extract p50 ${p.extractMs.p50} ms p95 ${p.extractMs.p95} ms; load p50 ${p.loadMs.p50} ms p95 ${p.loadMs.p95} ms`,
    );
  }
  console.log(`  fact rows after both passes      ${String(factRows)} (expected ${runs * coins})`);
  console.log(`  peak RSS                         ${result.peakRssMiB} MiB`);
}
