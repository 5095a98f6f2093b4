import type { Clock } from '../core/ports.js';

/**
 * Spaces request starts at least `intervalMs` apart. CoinGecko's limits are per minute and a 429
 * costs far more time than waiting, so the client paces itself instead of discovering the limit.
 */
export interface Throttle {
  /**
   * Resolves when a request may start, and books that start. Concurrent callers are served one
   * at a time in call order, so two fetches on the same client share one pace.
   */
  acquire(): Promise<void>;
  /** How long a request starting now would still have to wait (0 when it may start at once). */
  pendingMs(): number;
}

/** Creates a throttle that waits through `clock`, so tests with a fake clock take no real time. */
export function createThrottle(intervalMs: number, clock: Clock): Throttle {
  if (!Number.isFinite(intervalMs) || intervalMs < 0) {
    throw new RangeError(`throttle interval must be a non-negative number of ms, got ${intervalMs}`);
  }
  let nextStartMs = Number.NEGATIVE_INFINITY;
  let queue: Promise<void> = Promise.resolve();

  const pendingMs = (): number => Math.max(0, nextStartMs - clock.now().getTime());

  return {
    pendingMs,
    acquire() {
      const turn = queue.then(async () => {
        const wait = pendingMs();
        if (wait > 0) await clock.sleep(wait);
        nextStartMs = clock.now().getTime() + intervalMs;
      });
      // A failed sleep must not wedge every later caller behind a rejected promise.
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}
