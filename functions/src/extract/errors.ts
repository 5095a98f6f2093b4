import { PipelineError, type PipelineErrorOptions } from '../core/errors.js';

/** Failures while pulling from the market API or writing the raw object / event. */
export class ExtractError extends PipelineError {
  constructor(message: string, options: PipelineErrorOptions) {
    super('extract', message, options);
  }
}

/**
 * An ExtractError raised by the CoinGecko client. It keeps the HTTP status and the full response
 * body, so the caller can store the failing bytes in the lake next to the run record.
 */
export class CoinGeckoError extends ExtractError {
  /** HTTP status of the last response, undefined for network errors and timeouts. */
  readonly status: number | undefined;
  /** The last response body as text (undefined when there was no response). */
  readonly body: string | undefined;
  /** The same body byte for byte, for keeping in the lake. */
  readonly bodyBytes: Buffer | undefined;

  constructor(message: string, options: PipelineErrorOptions & { status?: number; body?: Buffer }) {
    super(message, options);
    this.status = options.status;
    this.bodyBytes = options.body;
    this.body = options.body?.toString('utf8');
  }
}
