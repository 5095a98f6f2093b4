import { eventSubject, type PipelineEvent } from '../../../functions/src/core/event.js';
import type { HistoryLoadSummary } from '../../../functions/src/load/run-history-load.js';
import type { LoadSummary } from '../../../functions/src/load/run-load.js';
import type { Twin } from '../twin.js';
import type { DeliveryOutcome, ReplayDelivery } from './replay-lake.js';

/** What a load's summary means to replay (the rows of a backfill chunk are its points). */
export function outcomeOfLoad(load: LoadSummary | HistoryLoadSummary): DeliveryOutcome {
  switch (load.status) {
    case 'loaded':
      return { status: 'loaded', rows: 'chunkId' in load ? load.pointsInserted : load.factRowsInserted };
    case 'already_loaded':
      return { status: 'already_loaded' };
    case 'failure_recorded':
      return { status: 'failure_recorded' };
    case 'rejected':
      return { status: 'failed', reason: load.error?.message ?? load.status };
  }
}

/**
 * Delivers through the twin's own bus (the same envelope, push handler, retries and dead letters
 * as a scheduled run) and waits until the event is acknowledged or dead-lettered: the outcome is
 * the load's summary, or the dead letter's last error.
 */
export function twinDelivery(twin: Pick<Twin, 'bus' | 'loads' | 'historyLoads' | 'settle'>): ReplayDelivery {
  return {
    async deliver(event: PipelineEvent): Promise<DeliveryOutcome> {
      const loads: readonly (LoadSummary | HistoryLoadSummary)[] =
        event.kind === 'history_chunk' ? twin.historyLoads : twin.loads;
      const before = loads.length;
      const messageId = await twin.bus.publish(event);
      await twin.settle();
      const subject = eventSubject(event);
      const load = loads.slice(before).find((l) => ('chunkId' in l ? l.chunkId : l.runId) === subject);
      if (load) return outcomeOfLoad(load);
      const dead = (await twin.bus.deadLetters()).find((m) => m.envelope.message.messageId === messageId);
      return {
        status: 'failed',
        reason: `dead-lettered: ${dead?.lastError ?? 'the load never acknowledged the event'}`,
      };
    },
  };
}
