/**
 * Repetitions and their summary. A repetition that throws is recorded as failed with its error and
 * left out of min/median/max: a failed run is never a 0 ms run.
 */
export interface Summary {
  /** Successful repetitions. */
  n: number;
  failed: number;
  min: number | null;
  median: number | null;
  max: number | null;
  /** Each successful repetition, in run order (growth and outliers stay visible in the JSON). */
  samples: number[];
  errors: string[];
}

export function summarise(samples: readonly number[], errors: readonly string[] = []): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median =
    sorted.length === 0 ? null : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    n: sorted.length,
    failed: errors.length,
    min: sorted[0] ?? null,
    median,
    max: sorted.at(-1) ?? null,
    samples: [...samples],
    errors: [...errors],
  };
}

/** Runs `once` `times` times in sequence; each call returns its own measured value. */
export async function repeat(times: number, once: (i: number) => Promise<number>): Promise<Summary> {
  const samples: number[] = [];
  const errors: string[] = [];
  for (let i = 0; i < times; i += 1) {
    try {
      samples.push(await once(i));
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  return summarise(samples, errors);
}

/** Milliseconds taken by `work`. */
export async function timeMs(work: () => Promise<unknown>): Promise<number> {
  const began = performance.now();
  await work();
  return performance.now() - began;
}
