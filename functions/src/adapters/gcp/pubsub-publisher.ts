import { eventAttributes, PipelineEventSchema, type PipelineEvent } from '../../core/event.js';
import type { EventPublisher } from '../../core/ports.js';
import { ExtractError } from '../../extract/errors.js';

/**
 * The part of `@google-cloud/pubsub`'s `Topic` the publisher uses, so tests can pass a typed fake
 * and a real `Topic` fits as is.
 */
export interface MessageTopic {
  readonly name: string;
  publishMessage(message: { data: Buffer; attributes: Record<string, string> }): Promise<string>;
}

/** gRPC status codes (grpc/status.h); numeric, as gax errors carry them in `code`. */
export const GrpcStatus = {
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

const NAME_OF = new Map<number, string>(Object.entries(GrpcStatus).map(([k, v]) => [v, k]));

/**
 * Transient on the server's side or the network's; the rest (a missing topic, a denied publish, a
 * malformed message, bad credentials) will fail the same way until someone changes something.
 * CANCELLED and UNKNOWN are what a dropped connection looks like, so they are retried too.
 */
const RETRYABLE = new Set<number>([
  GrpcStatus.CANCELLED,
  GrpcStatus.UNKNOWN,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.ABORTED,
  GrpcStatus.INTERNAL,
  GrpcStatus.UNAVAILABLE,
]);

/**
 * Publishes run events to a Pub/Sub topic: the JSON pointer as data, the event's attributes for
 * filtering. The topic is passed in with its own publish settings; for a function that publishes
 * one message per run, `batching: { maxMessages: 1 }` avoids the batching delay, and gax's publish
 * retry (`gaxOpts.retry`) should stay inside the function's budget.
 */
export class PubSubEventPublisher implements EventPublisher {
  constructor(private readonly topic: MessageTopic) {}

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
    try {
      return await this.topic.publishMessage({
        data: Buffer.from(JSON.stringify(checked.data)),
        attributes: eventAttributes(checked.data),
      });
    } catch (error) {
      throw classifyPublishError(error, this.topic.name);
    }
  }
}

/** Reads the gRPC status of a gax error, or of the one a Pub/Sub `PublishError` wraps. */
function grpcCodeOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, error: inner } = error as { code?: unknown; error?: unknown };
  if (typeof code === 'number') return code;
  return inner === undefined ? undefined : grpcCodeOf(inner);
}

/** Maps a publish failure to an ExtractError that says whether trying again can help. */
export function classifyPublishError(error: unknown, topic: string): ExtractError {
  const code = grpcCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  const name = code === undefined ? undefined : NAME_OF.get(code);
  // No gRPC status at all means the client failed before talking to the server: retry, as
  // isRetryable does for anything unknown.
  const retryable = code === undefined || RETRYABLE.has(code);
  return new ExtractError(`cannot publish to ${topic}: ${message}`, {
    code: name === undefined ? 'pubsub_publish_failed' : `pubsub_${name.toLowerCase()}`,
    retryable,
    cause: error,
    details: { topic, grpcCode: code },
  });
}
