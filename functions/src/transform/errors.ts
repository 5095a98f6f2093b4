import { PipelineError, type PipelineErrorOptions } from '../core/errors.js';

/** Failures turning a raw object into star rows (a whole object that cannot be read, not one bad record). */
export class TransformError extends PipelineError {
  constructor(message: string, options: PipelineErrorOptions) {
    super('transform', message, options);
  }
}
