/**
 * `npm run bench`: every performance figure of issue 12 with its baseline measured in the same run,
 * the ratio, the target and min/median/max over repetitions. Prints a Markdown table and writes
 * JSON. Speed is measured here, never in a timed test.
 *
 *   npm run bench -- [--quick] [--reps 3] [--only replay,growth,bulk,memory,cold,cli]
 *                    [--files N] [--out bench/results/latest.json]
 *
 * --quick: 150 corpus files instead of all, 300 loads for growth, a 2,500-coin bulk batch instead of 5,000; the
 * memory figure always uses the 10,000-coin snapshot.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cliStartFigure } from './figures/cli-start.js';
import { coldStartFigures } from './figures/cold-start.js';
import { loadMemoryFigure } from './figures/load-memory.js';
import { replayFigures } from './figures/replay.js';
import { bulkLoadFigure, growthFigure } from './figures/warehouse-writes.js';
import { REPO_ROOT } from './lib/fixtures.js';
import { markdownTable, writeJson, type Figure } from './lib/report.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string', default: '3' },
    only: { type: 'string' },
    files: { type: 'string' },
    out: { type: 'string', default: join(REPO_ROOT, 'bench/results/latest.json') },
  },
});
const reps = Number(values.reps);
const quick = values.quick;
const only = new Set((values.only ?? 'replay,growth,bulk,memory,cold,cli').split(','));
const files = values.files !== undefined ? Number(values.files) : quick ? 150 : undefined;

const steps: [string, () => Promise<Figure | Figure[]>][] = [
  ['cli', () => cliStartFigure(Math.max(reps, 5))],
  ['cold', () => coldStartFigures(Math.max(reps, 5))],
  ['memory', () => loadMemoryFigure(10_000, reps)],
  ['bulk', () => bulkLoadFigure(quick ? 2_500 : 5_000, reps)],
  ['growth', () => growthFigure(quick ? 300 : 1_000, 100)],
  ['replay', () => replayFigures({ reps, files })],
];

const began = Date.now();
const figures: Figure[] = [];
for (const [name, step] of steps) {
  if (!only.has(name)) continue;
  process.stderr.write(`bench: ${name}…\n`);
  const stepBegan = Date.now();
  figures.push(...[await step()].flat());
  process.stderr.write(`bench: ${name} took ${((Date.now() - stepBegan) / 1000).toFixed(1)} s\n`);
}

const table = markdownTable(figures);
console.log(table);
for (const f of figures) console.log(`- ${f.label}: ${f.note}`);
const missed = figures.filter((f) => f.met === false).map((f) => f.id);
console.log(missed.length ? `targets missed: ${missed.join(', ')}` : 'every target met');
writeJson(values.out, {
  when: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  options: { quick, reps, files: files ?? 'all' },
  seconds: (Date.now() - began) / 1000,
  figures,
  table,
});
console.log(`JSON: ${values.out}`);
