import type { DeliveryOutcome, ReplayStep } from './replay-lake.js';

/** Where progress goes: lines, or a terminal that a bar can redraw in place. */
export interface ProgressIo {
  out(line: string): void;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Progress of a long replay: `step` per object, `done` before the summary prints. */
export interface ReplayProgressPrinter {
  step(step: ReplayStep): void;
  done(): void;
}

/** `loaded 250 rows`, `already loaded`, `FAILED: why`. */
export function describeOutcome(outcome: DeliveryOutcome): string {
  switch (outcome.status) {
    case 'loaded':
      return `loaded ${outcome.rows} rows`;
    case 'already_loaded':
      return 'already loaded';
    case 'failure_recorded':
      return 'failed attempt recorded';
    case 'failed':
      return `FAILED: ${outcome.reason}`;
  }
}

const BAR_WIDTH = 24;

/**
 * A bar redrawn in place on a terminal; one plain line per object elsewhere (a pipe or CI log,
 * where control characters garble and silence looks like a hang). Failures always get a line of
 * their own, so a terminal keeps them on screen after the bar moves on.
 */
export function replayProgressPrinter(io: ProgressIo): ReplayProgressPrinter {
  const tty = io.stream?.isTTY === true ? io.stream : undefined;
  if (!tty) {
    return {
      step: (s) => io.out(`[${s.index}/${s.total}] ${s.subject}: ${describeOutcome(s.outcome)}`),
      done: () => undefined,
    };
  }
  let drawn = false;
  return {
    step(s) {
      if (s.outcome.status === 'failed') tty.write(`\r\x1b[2K${s.subject}: ${describeOutcome(s.outcome)}\n`);
      const filled = Math.round((s.index / s.total) * BAR_WIDTH);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}`;
      tty.write(`\r\x1b[2K[${bar}] ${s.index}/${s.total} ${s.subject}`);
      drawn = true;
    },
    done() {
      if (drawn) tty.write('\n');
    },
  };
}
