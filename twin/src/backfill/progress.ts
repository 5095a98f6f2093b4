import cliProgress from 'cli-progress';
import type { ChunkReport } from './run-backfill.js';

/**
 * Shows a backfill's progress. On a terminal: a progress bar with an ETA. cli-progress does the
 * bar: it is small, dependency-light, widely used and maintained, computes the ETA from the
 * observed rate, redraws in place and copes with narrow terminals; the project's spinner (ora) has
 * no notion of a total. Not a terminal (a pipe, CI logs, tests): one plain line per chunk, which
 * reads well in a log file where a redrawn bar would be noise. With --json: nothing until the end.
 */
export interface BackfillProgress {
  start(total: number): void;
  chunk(report: ChunkReport, done: number, total: number): void;
  stop(): void;
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** `bitcoin usd daily 2024-01-01..2024-12-31` (the range's last day, inclusive). */
export function describeChunk(report: ChunkReport): string {
  const { chunk } = report;
  const last = new Date(chunk.to.getTime() - 1);
  return `${chunk.coinId} ${chunk.vsCurrency} ${chunk.granularity} ${day(chunk.from)}..${day(last)}`;
}

function sentence(report: ChunkReport): string {
  switch (report.outcome) {
    case 'fetched':
      return 'fetched, loading';
    case 'redelivered':
      return 'already in the lake, loading it again (an earlier backfill stopped before it was loaded)';
    case 'already_loaded':
      return 'already loaded';
    case 'failed':
      return `FAILED: ${report.error?.message ?? 'unknown error'}`;
  }
}

export function createProgress(options: {
  json: boolean;
  out: (line: string) => void;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}): BackfillProgress {
  if (options.json) return { start: () => undefined, chunk: () => undefined, stop: () => undefined };
  const stream = options.stream;
  if (stream?.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: 'backfill [{bar}] {percentage}% | {value}/{total} chunks | ETA {eta_formatted} | {chunk}',
        hideCursor: true,
        etaBuffer: 20,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    return {
      start: (total) => bar.start(total, 0, { chunk: '' }),
      chunk: (report, done) => {
        // A failure must not vanish with the next redraw: it is written above the bar.
        if (report.outcome === 'failed') options.out(`\n${describeChunk(report)}: ${sentence(report)}`);
        bar.update(done, { chunk: `${describeChunk(report)}: ${report.outcome}` });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    start: () => undefined,
    chunk: (report, done, total) =>
      options.out(`[${done}/${total}] ${describeChunk(report)}: ${sentence(report)}`),
    stop: () => undefined,
  };
}
