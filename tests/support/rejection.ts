import { PipelineError } from '../../functions/src/core/errors.js';

/** The PipelineError `promise` rejects with; fails the test when it resolves or rejects otherwise. */
export async function rejection(promise: Promise<unknown>): Promise<PipelineError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof PipelineError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}
