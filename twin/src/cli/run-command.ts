import type { PipelineConfig } from '../../../functions/src/config.js';
import { describeError } from '../../../functions/src/core/errors.js';
import type { Logger } from '../../../functions/src/core/logger.js';
import type { ExtractSummary } from '../../../functions/src/extract/run-extract.js';
import type { LoadSummary } from '../../../functions/src/load/run-load.js';
import { openMarket, type SourceSpec } from '../market-source.js';
import { Twin } from '../twin.js';
import { clientProgressPrinter, toJson } from './output.js';

/** What one run did, end to end: extract, then the load its event triggered. */
export interface RunResult {
  label: string;
  runId?: string;
  extract?: ExtractSummary;
  load?: LoadSummary;
  /** Set when the run failed at any stage (the run table has it too). */
  error?: string;
}

export const runFailed = (r: RunResult): boolean =>
  r.error !== undefined || r.extract?.status === 'failed' || r.load?.status === 'rejected';

function describeRun(r: RunResult): string {
  const head = `${r.runId ?? r.label}:`;
  if (r.error) return `${head} FAILED ${r.error}`;
  const e = r.extract!;
  const extract =
    e.status === 'already_extracted'
      ? 'already in the lake (event re-published)'
      : `extracted ${e.records} records in ${e.pages} page(s)`;
  const l = r.load;
  const load = !l
    ? 'load did not complete (event dead-lettered: see `status`)'
    : l.status === 'already_loaded'
      ? 'already loaded, nothing written'
      : l.status === 'rejected'
        ? `load FAILED ${l.error?.message}`
        : `loaded ${l.factRowsInserted} rows, rejected ${l.rejected} (duplicates ${l.duplicates}), ${l.assetVersionsInserted} new asset versions`;
  return `${head} ${extract}; ${load}`;
}

async function oneRun(twin: Twin, label: string, time: Date): Promise<RunResult> {
  const before = twin.loads.length;
  let extract: ExtractSummary;
  try {
    extract = await twin.extract(time);
  } catch (error) {
    await twin.settle(); // the failure event still reaches the run table
    return { label, error: describeError(error).message };
  }
  await twin.settle();
  const load = twin.loads.slice(before).findLast((l) => l.runId === extract.runId);
  return { label, runId: extract.runId, extract, load };
}

export interface RunCommandOptions {
  config: PipelineConfig;
  source: SourceSpec;
  slot?: Date;
  json: boolean;
  logger: Logger;
  out: (line: string) => void;
  now?: () => Date;
}

/**
 * `crypto-pipeline run`: one run (or, for replay:DIR, one run per saved file in name order, going
 * on past failed runs). Returns the exit code: 0 when every run succeeded, 1 otherwise.
 */
export async function runCommand(options: RunCommandOptions): Promise<number> {
  const { config, source, out } = options;
  const market = await openMarket(source, config.coingecko, {
    onProgress: clientProgressPrinter(options.logger),
  });
  const twin = await Twin.open({ config, market: market.source, logger: options.logger });
  const results: RunResult[] = [];
  const started = Date.now();
  try {
    if (market.replay) {
      const files = market.replay.files;
      if (files.length === 0) throw new Error(`no *.json files to replay in ${market.replay.dir}`);
      for (const [i, file] of files.entries()) {
        let result: RunResult;
        try {
          await market.replay.select(file);
          result = await oneRun(twin, file, await market.replay.slotTimeOf(file));
        } catch (error) {
          result = { label: file, error: describeError(error).message };
        }
        results.push(result);
        if (!options.json) out(`[${i + 1}/${files.length}] ${file} -> ${describeRun(result)}`);
      }
    } else {
      const time = options.slot ?? options.now?.() ?? new Date();
      market.simulator?.setTime(time);
      const result = await oneRun(twin, time.toISOString(), time);
      results.push(result);
      if (!options.json) out(describeRun(result));
    }
  } finally {
    await twin.close();
    await market.close();
  }
  const failed = results.filter(runFailed);
  const rows = results.reduce((n, r) => n + (r.load?.factRowsInserted ?? 0), 0);
  const seconds = (Date.now() - started) / 1000;
  if (options.json) {
    out(toJson({ runs: results, failed: failed.length, rowsLoaded: rows, seconds }));
  } else {
    out(
      `${results.length} run(s): ${results.length - failed.length} ok, ${failed.length} failed; ` +
        `${rows} fact rows loaded in ${seconds.toFixed(1)} s; warehouse ${config.dataDir}/warehouse.duckdb`,
    );
    for (const f of failed.slice(0, 10)) out(`failed: ${describeRun(f)}`);
  }
  return failed.length === 0 ? 0 : 1;
}
