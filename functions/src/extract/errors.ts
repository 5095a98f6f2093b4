import { PipelineError, type PipelineErrorOptions } from '../core/errors.js';

/** Failures while pulling from the market API or writing the raw object / event. */
export class ExtractError extends PipelineError {
  constructor(message: string, options: PipelineErrorOptions) {
    super('extract', message, options);
  }
}
