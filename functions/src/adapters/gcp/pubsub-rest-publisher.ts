import { eventAttributes, type PipelineEvent } from '../../core/event.js';
import { encodeEvent } from '../../core/pubsub-envelope.js';
import { GoogleApiError, type RestClient } from './google-rest.js';

/** Pub/Sub accepts up to 1000 messages a publish call; small batches keep a failure's blast radius small. */
export const PUBLISH_BATCH = 100;

/** How often a batch is retried on 429 / 5xx before replay reports it failed. */
const ATTEMPTS = 4;

/** One Pub/Sub message as topics.publish takes it: base64 data and string attributes. */
export interface PubSubMessage {
  data: string;
  attributes?: Record<string, string>;
}

/**
 * Publishes to a topic through Pub/Sub's REST API (topics.publish): the extract function's events
 * (through PubSubEventPublisher), and the ops commands' replayed events and backfill requests. A
 * pipeline event goes as the JSON pointer (base64) with the event's attributes, so the push
 * subscription hands the load function exactly what a scheduled run would; other messages go as
 * they are.
 */
export class PubSubRestPublisher {
  constructor(
    private readonly rest: RestClient,
    private readonly baseUrl: string,
    /** `projects/P/topics/T`. */
    readonly topicPath: string,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  /** Publishes one batch of pipeline events; resolves to the message ids, in order. */
  publish(events: readonly PipelineEvent[]): Promise<string[]> {
    return this.publishMessages(
      events.map((e) => ({ data: encodeEvent(e), attributes: eventAttributes(e) })),
    );
  }

  /** Publishes one batch of messages (at most 1000), retrying 429 and 5xx with backoff. */
  async publishMessages(messages: readonly PubSubMessage[]): Promise<string[]> {
    const body = { messages };
    for (let attempt = 1; ; attempt += 1) {
      try {
        const answer = await this.rest.request<{ messageIds?: string[] }>(
          'POST',
          `${this.baseUrl}/v1/${this.topicPath}:publish`,
          body,
        );
        return answer.messageIds ?? [];
      } catch (error) {
        // Quota and server trouble pass; a missing topic or a denied publish does not.
        const transient = error instanceof GoogleApiError && (error.status === 429 || error.status >= 500);
        if (!transient || attempt >= ATTEMPTS) throw error;
        await this.sleep(500 * 2 ** (attempt - 1));
      }
    }
  }
}
