import { statSync } from 'node:fs';
import type { PipelineConfig } from '../../../functions/src/config.js';
import type { Logger } from '../../../functions/src/core/logger.js';
import { jsonRange, type DateRange } from '../../../functions/src/core/replay-event.js';
import { replayLake, type ReplaySummary } from '../replay/replay-lake.js';
import { replayProgressPrinter, type ProgressIo } from '../replay/replay-progress.js';
import { twinDelivery } from '../replay/twin-delivery.js';
import { twinPaths } from '../twin-paths.js';
import { toJson } from './output.js';
import { UsageError } from './usage-error.js';

export interface ReplayCommandOptions {
  config: PipelineConfig;
  range: DateRange;
  json: boolean;
  logger: Logger;
  io: ProgressIo;
  /** Aborted by Ctrl-C / SIGTERM: stop after the object in flight. */
  signal: AbortSignal;
}

/**
 * `crypto-pipeline replay`: re-delivers the events of the raw objects in the twin's lake through
 * its event bus, so the warehouse is rebuilt from the lake alone (README: "Rebuild from the lake").
 * Exit code 0 when every object in range is loaded (now or before), 1 when one failed or the
 * replay was stopped early; a missing lake is a usage error (2), before anything is created.
 */
export async function replayCommand(options: ReplayCommandOptions): Promise<number> {
  const { config, io } = options;
  const lakeDir = twinPaths(config.dataDir).lake;
  if (!statSync(lakeDir, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(
      `no lake at ${lakeDir}: nothing to replay (run the pipeline first, or point --data-dir at its data folder)`,
    );
  const started = Date.now();
  const { Twin } = await import('../twin.js');
  const twin = await Twin.open({ config, logger: options.logger, publishSnapshots: true });
  let summary: ReplaySummary;
  try {
    // Events left pending by an earlier process are redelivered on open: let them finish first,
    // so each outcome below belongs to the event replay published.
    await twin.settle();
    const progress = options.json ? undefined : replayProgressPrinter(io);
    summary = await replayLake(twin.lake, twinDelivery(twin), {
      range: options.range,
      signal: options.signal,
      onStart: (total) => {
        if (!options.json)
          io.out(`replaying ${total} lake object(s) from ${lakeDir}${rangeText(options.range)}`);
      },
      onStep: (step) => progress?.step(step),
    });
    progress?.done();
  } finally {
    await twin.close();
  }
  const seconds = (Date.now() - started) / 1000;
  if (options.json) io.out(toJson({ lake: lakeDir, ...summary, range: jsonRange(summary.range), seconds }));
  else for (const line of summaryLines(summary, seconds)) io.out(line);
  return summary.failed.length === 0 && !summary.interrupted ? 0 : 1;
}

function rangeText(range: DateRange): string {
  if (range.from === undefined && range.to === undefined) return '';
  return ` (dt ${range.from ?? '…'} to ${range.to ?? '…'})`;
}

/** The closing sentences: counts first, then each failure with its reason, then what to do. */
export function summaryLines(s: ReplaySummary, seconds: number): string[] {
  const lines = [
    `${s.found} lake object(s) found, ${s.delivered} delivered: ${s.loaded} loaded (${s.rowsLoaded} fact rows), ` +
      `${s.alreadyLoaded} already loaded, ${s.failed.length} failed, in ${seconds.toFixed(1)} s`,
  ];
  const h = s.history;
  if (h.found > 0)
    lines.push(
      `of which ${h.found} backfill chunk object(s): ${h.loaded} loaded (${h.pointsLoaded} history points), ` +
        `${h.alreadyLoaded} already loaded, ${h.failuresRecorded} failed fetch(es) recorded in ops_backfill_chunk again`,
    );
  if (s.failuresRecorded > 0)
    lines.push(
      `${s.failuresRecorded} failed attempt(s) recorded in ops_run again (runs that never loaded show as failed)`,
    );
  for (const f of s.failed) lines.push(`failed: ${f.object}: ${f.reason}`);
  if (s.ignored.length > 0)
    lines.push(
      `ignored ${s.ignored.length} file(s) under the raw and failures prefixes that are neither: ` +
        `${s.ignored.slice(0, 5).join(', ')}${s.ignored.length > 5 ? ', …' : ''}`,
    );
  if (s.interrupted)
    lines.push(
      `stopped after ${s.loaded + s.alreadyLoaded + s.failuresRecorded + s.failed.length} of ${s.found}; ` +
        'replay again to finish (runs already loaded are skipped)',
    );
  return lines;
}
