import type { CloudEventFunction } from '@google-cloud/functions-framework';
import { describeError } from '../core/errors.js';
import { eventFromCloudEventData, PoisonMessageError } from '../core/pubsub-envelope.js';
import { runLoad, type LoadDeps, type LoadSummary } from './run-load.js';

/**
 * The `load` CloudEvent function (Pub/Sub push). Returning acknowledges the message; throwing makes
 * Pub/Sub redeliver it with backoff until the dead-letter policy takes over. Poison messages and
 * terminally bad data are logged (and recorded in the run table where a run is known) and acked.
 */
export function createLoadHandler(deps: LoadDeps): CloudEventFunction<unknown> {
  return async (cloudEvent) => {
    await handleLoadEvent(cloudEvent.data, deps);
  };
}

export async function handleLoadEvent(data: unknown, deps: LoadDeps): Promise<LoadSummary | undefined> {
  let parsed;
  try {
    parsed = eventFromCloudEventData(data);
  } catch (error) {
    if (error instanceof PoisonMessageError) {
      deps.logger.log('ERROR', `poison message acknowledged: ${error.message}`, {
        code: error.code,
        ...error.details,
      });
      return undefined;
    }
    throw error;
  }
  try {
    return await runLoad(parsed.event, deps);
  } catch (error) {
    deps.logger.log(
      'WARNING',
      `load ${parsed.event.runId} will be retried: ${describeError(error).message}`,
      {
        runId: parsed.event.runId,
        messageId: parsed.messageId,
        code: describeError(error).code,
      },
    );
    throw error;
  }
}
