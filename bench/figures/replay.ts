import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parseConfig } from '../../functions/src/config.js';
import { silentLogger } from '../../functions/src/core/logger.js';
import { MARKET_NUMBER_FIELDS } from '../../functions/src/schema/tables.js';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { runCommand } from '../../twin/src/cli/run-command.js';
import { copyCorpusFiles, corpusAvailable, writeSimulatorSnapshots } from '../lib/fixtures.js';
import { compare, figure, type Figure } from '../lib/report.js';
import { repeat, summarise, timeMs } from '../lib/stats.js';

/** The numeric market fields the fact keeps, read by DuckDB's own JSON reader in the baselines. */
const NUMERIC = ['market_cap_rank', ...MARKET_NUMBER_FIELDS];
const COLUMNS = `{id: 'VARCHAR', symbol: 'VARCHAR', name: 'VARCHAR', image: 'VARCHAR', last_updated: 'TIMESTAMP', ${NUMERIC.map((c) => `${c}: 'DOUBLE'`).join(', ')}}`;
const TABLE = `create table fact (file varchar, id varchar, symbol varchar, name varchar, image varchar,
  last_updated timestamp, ${NUMERIC.map((c) => `${c} double`).join(', ')}, primary key (file, id))`;
const SELECT = `id, symbol, name, image, last_updated, ${NUMERIC.join(', ')}`;
const sql = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * DuckDB alone doing the replay's work: parse every response and insert its rows into a keyed fact
 * table, `perFile` = one transaction per file (like one run per file), else one bulk statement.
 * Dedup by coin id within a file, as the pipeline does. Files that are not an array of coins (the
 * corpus's 403 body) are left out, as the pipeline rejects them.
 */
async function duckDbAlone(paths: readonly string[], perFile: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'cmp-bench-duck-'));
  const instance = await DuckDBInstance.create(join(dir, 'alone.duckdb'));
  const c = await instance.connect();
  try {
    await c.run(TABLE);
    const read = (files: string) =>
      `insert into fact select filename, ${SELECT} from read_json(${files}, format = 'array', columns = ${COLUMNS}, filename = true)
       qualify row_number() over (partition by filename, id order by last_updated desc) = 1 on conflict do nothing`;
    return await timeMs(async () => {
      if (perFile) {
        for (const path of paths) {
          await c.run('begin');
          await c.run(read(sql(path)));
          await c.run('commit');
        }
      } else {
        await c.run(read(`[${paths.map(sql).join(', ')}]`));
      }
    });
  } finally {
    c.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

const isCoinArray = (path: string) => {
  try {
    return Array.isArray(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return false;
  }
};

export interface ReplayOptions {
  reps: number;
  /** Corpus files to replay (all when undefined); simulator snapshots when there is no corpus. */
  files: number | undefined;
}

/**
 * `crypto-pipeline run --source replay:DIR` on a fresh data folder (the CLI's code path in this
 * process: replay server, extract, lake, event, load, DuckDB, snapshot copies), against DuckDB
 * alone doing the same inserts per file and in bulk.
 */
export async function replayFigures(options: ReplayOptions): Promise<Figure[]> {
  const work = mkdtempSync(join(tmpdir(), 'cmp-bench-replay-'));
  try {
    const replayDir = join(work, 'replay');
    const corpus = corpusAvailable();
    const names = corpus
      ? copyCorpusFiles(replayDir, options.files)
      : writeSimulatorSnapshots(replayDir, options.files ?? 300, 100);
    const paths = names.map((n) => join(replayDir, n)).filter(isCoinArray);

    // The snapshot copies' share of the replay: wrapped here, in the bench only, to be timed.
    let copyMs = 0;
    const publish = DuckDbWarehouse.prototype.publishSnapshot;
    DuckDbWarehouse.prototype.publishSnapshot = async function (this: DuckDbWarehouse, target: string) {
      const began = performance.now();
      try {
        return await publish.call(this, target);
      } finally {
        copyMs += performance.now() - began;
      }
    };
    const copyShares: number[] = [];
    let failedRuns = 0;
    const replay = await repeat(options.reps, async (i) => {
      const dataDir = join(work, `data-${i}`);
      const config = parseConfig({
        PIPELINE_ENGINE: 'local',
        PIPELINE_DATA_DIR: dataDir,
        COIN_LIMIT: '250',
        PER_PAGE: '250',
        CADENCE_MINUTES: '60',
      });
      copyMs = 0;
      let failed = 0;
      const ms = await timeMs(() =>
        runCommand({
          config,
          source: { kind: 'replay', dir: replayDir },
          json: true,
          logger: silentLogger,
          out: (line) => (failed = (JSON.parse(line) as { failed: number }).failed),
        }),
      );
      // Runs the pipeline rejects by design (the 403 body) are expected; more would be a broken bench.
      if (failed > names.length - paths.length) throw new Error(`${failed} runs failed in the replay`);
      failedRuns = failed;
      copyShares.push((100 * copyMs) / ms);
      rmSync(dataDir, { recursive: true, force: true });
      return ms;
    });
    DuckDbWarehouse.prototype.publishSnapshot = publish;

    const perFile = await repeat(options.reps, () => duckDbAlone(paths, true));
    const bulk = await repeat(options.reps, () => duckDbAlone(paths, false));
    const what = corpus ? `${names.length} real corpus files` : `${names.length} simulator snapshots`;
    return [
      figure({
        id: 'replay',
        label: `corpus replay (${what})`,
        unit: 'ms',
        value: replay,
        comparisons: [
          compare(replay, 'DuckDB alone, one transaction per file', perFile, { maxRatio: 1.5 }),
          compare(replay, 'DuckDB alone, bulk', bulk),
        ],
        ...(corpus && options.files === undefined ? { absoluteTarget: { maxValue: 30_000 } } : {}),
        note:
          `crypto-pipeline run --source replay:DIR on a fresh data folder, in process (${failedRuns} run(s) ` +
          'rejected by design); baselines: DuckDB read_json + insert on the same keyed columns',
      }),
      figure({
        id: 'replay-snapshot-copies',
        label: 'share of the replay spent on snapshot copies',
        unit: '%',
        value: summarise(copyShares),
        note: 'time inside DuckDbWarehouse.publishSnapshot (throttled readable copies) / replay time',
      }),
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
