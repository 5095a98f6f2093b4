import type { Logger } from '../../../functions/src/core/logger.js';
import type { DuckDbWarehouse } from '../adapters/duckdb-warehouse.js';

/**
 * Keeps a readable copy of the warehouse next to it while a pipeline process holds the file, so
 * `status`, `query` and the dashboard can read during `start` (see warehouse-reader.ts). Publishes at
 * once when asked after a quiet spell, otherwise at most every `minIntervalMs` (a corpus replay loads
 * hundreds of runs a minute; one copy per run would cost more than the loads), and on flush.
 */
export class SnapshotPublisher {
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> = Promise.resolve();
  private gapMs: number;

  constructor(
    private readonly warehouse: DuckDbWarehouse,
    private readonly target: string,
    private readonly logger: Logger,
    private readonly minIntervalMs = 2_000,
  ) {
    this.gapMs = minIntervalMs;
  }

  /** The warehouse changed: publish now, or once the interval since the last copy has passed. */
  changed(): void {
    if (this.timer) return;
    const wait = this.last + this.gapMs - Date.now();
    if (wait <= 0) return void this.publish();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.publish();
    }, wait);
    // A pending copy must not keep a finished command alive; close() flushes instead.
    this.timer.unref();
  }

  /** Publishes what is pending (if anything) and waits for copies in progress. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      await this.publish();
    }
    await this.publishing;
  }

  private publish(): Promise<void> {
    this.last = Date.now();
    this.publishing = this.publishing
      .then(async () => {
        const started = Date.now();
        await this.warehouse.publishSnapshot(this.target);
        // A big warehouse takes longer to copy: space the copies so they cost at most ~10% of
        // the writer's time (the next one waits ten times as long as this one took).
        this.gapMs = Math.max(this.minIntervalMs, 10 * (Date.now() - started));
      })
      .catch((error: unknown) => {
        // Readers fall back to an older copy; the pipeline itself must not fail for it.
        this.logger.log(
          'WARNING',
          `could not publish a readable copy of the warehouse: ${(error as Error).message}`,
        );
      });
    return this.publishing;
  }
}
