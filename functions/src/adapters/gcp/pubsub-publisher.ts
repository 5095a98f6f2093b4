import { PipelineEventSchema, type PipelineEvent } from '../../core/event.js';
import type { EventPublisher } from '../../core/ports.js';
import { ExtractError } from '../../extract/errors.js';
import { GoogleApiError, RequestTimeoutError } from './google-rest.js';
import type { PubSubRestPublisher } from './pubsub-rest-publisher.js';

/**
 * Google's canonical error codes (google.rpc.Code). A REST error body names its code in
 * `error.status` (`NOT_FOUND`, `PERMISSION_DENIED`...); the numbers are kept for the logs, which
 * carried gRPC codes when the function published through the gRPC client.
 */
export const CanonicalCode = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
type CanonicalName = keyof typeof CanonicalCode;

const isCanonical = (name: string | undefined): name is CanonicalName =>
  name !== undefined && Object.hasOwn(CanonicalCode, name);

/** The code HTTP maps to (google.rpc.Code's own table), for an error body that names none. */
const BY_HTTP_STATUS: Record<number, CanonicalName> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/**
 * Transient on the server's side or the network's; the rest (a missing topic, a denied publish, a
 * malformed message, bad credentials) will fail the same way until someone changes something.
 * CANCELLED and UNKNOWN are what a dropped connection looks like, so they are retried too.
 */
const RETRYABLE = new Set<CanonicalName>([
  'CANCELLED',
  'UNKNOWN',
  'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'ABORTED',
  'INTERNAL',
  'UNAVAILABLE',
]);

/**
 * Publishes run events to a Pub/Sub topic through the REST API (topics.publish): the JSON pointer
 * as data, the event's attributes for filtering, one message per call (a run publishes one event
 * and should not wait for a batch). REST rather than the gRPC client: importing
 * @google-cloud/pubsub (google-gax, gRPC, protobufjs) cost extract ~250 ms of every cold start
 * (issue 12), for one small POST a run. The REST publisher retries 429 and 5xx a few times itself.
 */
export class PubSubEventPublisher implements EventPublisher {
  constructor(private readonly topic: PubSubRestPublisher) {}

  /** Resolves to the server-assigned message id. */
  async publish(event: PipelineEvent): Promise<string> {
    // A malformed event would be a poison message for every subscriber: refuse it here.
    const checked = PipelineEventSchema.safeParse(event);
    if (!checked.success) {
      throw new ExtractError(`refusing to publish an invalid event: ${checked.error.message}`, {
        code: 'event_invalid',
        retryable: false,
      });
    }
    let ids: string[];
    try {
      ids = await this.topic.publish([checked.data]);
    } catch (error) {
      throw classifyPublishError(error, this.topic.topicPath);
    }
    const [id] = ids;
    if (id === undefined) {
      // A 200 without an id means nothing can be said about delivery; publishing again is safe
      // (the load is idempotent on the run id), so the platform should retry.
      throw new ExtractError(`cannot publish to ${this.topic.topicPath}: the answer has no message id`, {
        code: 'pubsub_publish_failed',
        retryable: true,
      });
    }
    return id;
  }
}

/** The canonical code of a publish failure, when the server (or the timeout) gave one. */
function codeOf(error: unknown): CanonicalName | undefined {
  if (error instanceof RequestTimeoutError) return 'DEADLINE_EXCEEDED';
  if (!(error instanceof GoogleApiError)) return undefined;
  return isCanonical(error.reason) ? error.reason : BY_HTTP_STATUS[error.status];
}

/** Maps a publish failure to an ExtractError that says whether trying again can help. */
export function classifyPublishError(error: unknown, topic: string): ExtractError {
  const name = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  // No code at all means the request never got an answer (a refused connection, a token the
  // metadata server would not give): retry, as isRetryable does for anything unknown.
  const retryable = name === undefined || RETRYABLE.has(name);
  return new ExtractError(`cannot publish to ${topic}: ${message}`, {
    code: name === undefined ? 'pubsub_publish_failed' : `pubsub_${name.toLowerCase()}`,
    retryable,
    cause: error,
    details: {
      topic,
      ...(name === undefined ? {} : { code: CanonicalCode[name] }),
      ...(error instanceof GoogleApiError ? { httpStatus: error.status } : {}),
    },
  });
}
