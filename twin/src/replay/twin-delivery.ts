import type { RunEvent } from '../../../functions/src/core/event.js';
import type { LoadSummary } from '../../../functions/src/load/run-load.js';
import type { Twin } from '../twin.js';
import type { DeliveryOutcome, ReplayDelivery } from './replay-lake.js';

/** What a load's summary means to replay. */
export function outcomeOfLoad(load: LoadSummary): DeliveryOutcome {
  switch (load.status) {
    case 'loaded':
      return { status: 'loaded', rows: load.factRowsInserted };
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
export function twinDelivery(twin: Pick<Twin, 'bus' | 'loads' | 'settle'>): ReplayDelivery {
  return {
    async deliver(event: RunEvent): Promise<DeliveryOutcome> {
      const before = twin.loads.length;
      const messageId = await twin.bus.publish(event);
      await twin.settle();
      const load = twin.loads.slice(before).find((l) => l.runId === event.runId);
      if (load) return outcomeOfLoad(load);
      const dead = (await twin.bus.deadLetters()).find((m) => m.envelope.message.messageId === messageId);
      return {
        status: 'failed',
        reason: `dead-lettered: ${dead?.lastError ?? 'the load never acknowledged the event'}`,
      };
    },
  };
}
