import type { PipelineConfig } from '../../../functions/src/config.js';
import { describeError } from '../../../functions/src/core/errors.js';
import type { Logger } from '../../../functions/src/core/logger.js';
import type { SourceSpec } from '../market-source.js';
import { toJson } from './output.js';
import { withPipeline } from './pipeline-session.js';
import { describeRun, oneRun, runFailed, runIdFor, slotRuns, type RunResult } from './run-report.js';

export interface RunCommandOptions {
  config: PipelineConfig;
  source: SourceSpec;
  slot?: Date;
  json: boolean;
  logger: Logger;
  /** False: the pipeline's own log is left out (the run sentences say it); default true. */
  verbose?: boolean;
  out: (line: string) => void;
  now?: () => Date;
}

/**
 * `crypto-pipeline run`: one run per configured currency for the slot (or, for replay:DIR, one run per saved file in name order, going
 * on past failed runs). Returns the exit code: 0 when every run succeeded, 1 otherwise.
 */
export async function runCommand(options: RunCommandOptions): Promise<number> {
  const { config, out } = options;
  const results: RunResult[] = [];
  const started = Date.now();
  await withPipeline(options, async ({ twin, market }) => {
    if (market.replay) {
      const files = market.replay.files;
      if (files.length === 0) throw new Error(`no *.json files to replay in ${market.replay.dir}`);
      for (const [i, file] of files.entries()) {
        let result: RunResult;
        let slot: Date | undefined;
        try {
          slot = await market.replay.slotTimeOf(file);
          await market.replay.select(file);
          result = await oneRun(twin, file, slot);
        } catch (error) {
          const runId = slot ? runIdFor(twin, slot) : null;
          result = { label: file, runId, error: describeError(error).message };
        }
        results.push(result);
        if (!options.json) out(`[${i + 1}/${files.length}] ${file} -> ${describeRun(result)}`);
      }
    } else {
      const time = options.slot ?? options.now?.() ?? new Date();
      market.simulator?.setTime(time);
      for (const result of await slotRuns(twin, time.toISOString(), time)) {
        results.push(result);
        if (!options.json) out(describeRun(result));
      }
    }
  });
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
    // Each failed run was described as it happened; the summary names them without repeating why.
    if (failed.length > 0 && results.length > 1) {
      const names = failed.slice(0, 10).map((f) => f.runId ?? f.label);
      out(`failed: ${names.join(', ')}${failed.length > 10 ? `, and ${failed.length - 10} more` : ''}`);
    }
  }
  return failed.length === 0 ? 0 : 1;
}
