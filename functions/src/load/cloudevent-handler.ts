import type { CloudEventFunction } from '@google-cloud/functions-framework';
import { describeError } from '../core/errors.js';
import { eventSubject } from '../core/event.js';
import type { HistoryWarehouse } from '../history/history-batch.js';
import { eventFromCloudEventData, PoisonMessageError } from '../core/pubsub-envelope.js';
import { runHistoryLoad, type HistoryLoadSummary } from './run-history-load.js';
import { runLoad, type LoadDeps, type LoadSummary } from './run-load.js';

/** The load function's dependencies: the warehouse also takes backfilled history. */
export type LoadHandlerDeps = Omit<LoadDeps, 'warehouse'> & {
  warehouse: LoadDeps['warehouse'] & HistoryWarehouse;
};

/**
 * The `load` CloudEvent function (Pub/Sub push). Returning acknowledges the message; throwing makes
 * Pub/Sub redeliver it with backoff until the dead-letter policy takes over. Poison messages and
 * terminally bad data are logged (and recorded in the run table where a run is known) and acked.
 */
export function createLoadHandler(deps: LoadHandlerDeps): CloudEventFunction<unknown> {
  return async (cloudEvent) => {
    await handleLoadEvent(cloudEvent.data, deps);
  };
}

/** Routes an event by kind: a run's snapshot (or failure) to runLoad, a backfill chunk to runHistoryLoad. */
export async function handleLoadEvent(
  data: unknown,
  deps: LoadHandlerDeps,
): Promise<LoadSummary | HistoryLoadSummary | undefined> {
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
    const { event } = parsed;
    return event.kind === 'history_chunk' ? await runHistoryLoad(event, deps) : await runLoad(event, deps);
  } catch (error) {
    deps.logger.log(
      'WARNING',
      `load ${eventSubject(parsed.event)} will be retried: ${describeError(error).message}`,
      {
        subject: eventSubject(parsed.event),
        messageId: parsed.messageId,
        code: describeError(error).code,
      },
    );
    throw error;
  }
}
