import { PipelineError, type PipelineErrorOptions } from '../core/errors.js';

/** Failures reading the raw object or writing the warehouse. */
export class LoadError extends PipelineError {
  constructor(message: string, options: PipelineErrorOptions) {
    super('load', message, options);
  }
}
