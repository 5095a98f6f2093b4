import type { Clock } from '../../core/ports.js';

/**
 * Retries inside a time budget (ARCHITECTURE.md §4): transient failures are retried with
 * full-jitter exponential backoff until the budget, kept shorter than the function timeout, would
 * be overrun; then the last error surfaces so the platform redelivers the message.
 */
export interface RetryPolicy {
  /** Total time one operation may spend, retries and waiting for jobs included. */
  budgetMs: number;
  /** Upper bound of the first retry's delay. */
  baseDelayMs: number;
  /** No single delay exceeds this. */
  maxDelayMs: number;
}

/** Two minutes in all (config's RETRY_BUDGET_SECONDS default), first retry within 0.5 s, none over 20 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { budgetMs: 120_000, baseDelayMs: 500, maxDelayMs: 20_000 };

/** A deadline shared by every step of one operation, so retries of later steps get what is left. */
export class Budget {
  private readonly deadline: number;

  constructor(
    private readonly clock: Clock,
    private readonly policy: RetryPolicy,
    private readonly random: () => number = Math.random,
  ) {
    this.deadline = clock.now().getTime() + policy.budgetMs;
  }

  remainingMs(): number {
    return this.deadline - this.clock.now().getTime();
  }

  /**
   * Full jitter (uniform in `[0, min(max, base * 2^(n-1)))`): concurrent deliveries that hit the
   * same throttling spread out instead of retrying in lockstep.
   */
  backoffMs(failedAttempts: number): number {
    const ceiling = Math.min(
      this.policy.maxDelayMs,
      this.policy.baseDelayMs * 2 ** Math.min(Math.max(failedAttempts - 1, 0), 20),
    );
    return Math.floor(Math.min(Math.max(this.random(), 0), 1) * ceiling);
  }

  /** Sleeps `ms` when that leaves the budget intact; false (without sleeping) when it would not. */
  async wait(ms: number): Promise<boolean> {
    if (ms >= this.remainingMs()) return false;
    await this.clock.sleep(ms);
    return true;
  }

  /**
   * Runs `attempt` until it succeeds, `classify` says its error is terminal, or the budget is
   * spent. Errors are rethrown as classified, so callers only ever see pipeline errors.
   */
  async retry<T>(
    attempt: () => Promise<T>,
    classify: (error: unknown) => Error & { retryable: boolean },
  ): Promise<T> {
    for (let failures = 1; ; failures++) {
      try {
        return await attempt();
      } catch (error) {
        const classified = classify(error);
        if (!classified.retryable || !(await this.wait(this.backoffMs(failures)))) throw classified;
      }
    }
  }
}
