/**
 * Every failure the pipeline raises says whether trying again can help. The platform's retry
 * machinery (Scheduler retries, Pub/Sub redelivery, the twin's event bus) keys off `retryable`:
 * transient errors are rethrown so the message comes back; terminal ones are recorded and acked.
 */
export type Stage = 'config' | 'extract' | 'transform' | 'load' | 'event';

export interface PipelineErrorOptions {
  /** Short machine-readable reason, e.g. `coingecko_rate_limited`, `event_invalid`. */
  code: string;
  retryable: boolean;
  cause?: unknown;
  /** Extra context kept in logs and run records (never secrets). */
  details?: Record<string, unknown>;
}

export class PipelineError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(
    readonly stage: Stage,
    message: string,
    options: PipelineErrorOptions,
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.retryable = options.retryable;
    this.details = options.details ?? {};
  }
}

/** True when the error (or anything unknown, conservatively) may succeed on a later attempt. */
export function isRetryable(error: unknown): boolean {
  return error instanceof PipelineError ? error.retryable : true;
}

/** A one-line, log-friendly description of any thrown value. */
export function describeError(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error instanceof PipelineError) {
    return { code: error.code, message: error.message, retryable: error.retryable };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'unexpected', message, retryable: true };
}
