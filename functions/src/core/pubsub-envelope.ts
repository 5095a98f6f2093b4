import * as z from 'zod/mini';
import './zod-messages.js';
import { PipelineEventSchema, type PipelineEvent } from './event.js';
import { PipelineError } from './errors.js';

/**
 * Validation at the edge (ARCHITECTURE.md §7.5). A Pub/Sub push request reaches `load` as the
 * CloudEvent the Functions Framework builds from it: `data.message` holds base64 `data`,
 * `attributes`, `messageId`, `publishTime` (the framework drops the push body's `subscription` and
 * `deliveryAttempt`). Anything else is a poison message: terminal, never retried.
 */
export const PubSubMessageSchema = z.object({
  data: z.string().check(z.minLength(1, 'message has no data')),
  attributes: z.nullish(z.record(z.string(), z.string())),
  messageId: z.optional(z.string()),
  publishTime: z.optional(z.string()),
});

export const MessagePublishedDataSchema = z.object({ message: PubSubMessageSchema });

export type PubSubMessage = z.infer<typeof PubSubMessageSchema>;

export class PoisonMessageError extends PipelineError {
  constructor(message: string, details: Record<string, unknown>) {
    super('event', message, { code: 'event_invalid', retryable: false, details });
  }
}

/** Decodes and validates the pipeline event carried by a CloudEvent's data, or throws PoisonMessageError. */
export function eventFromCloudEventData(data: unknown): {
  event: PipelineEvent;
  messageId: string | undefined;
} {
  const envelope = MessagePublishedDataSchema.safeParse(data);
  if (!envelope.success) {
    throw new PoisonMessageError(
      `not a Pub/Sub messagePublished event: ${envelope.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      {},
    );
  }
  const { message } = envelope.data;
  const text = Buffer.from(message.data, 'base64').toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PoisonMessageError(`message ${message.messageId ?? '?'} data is not JSON`, {
      messageId: message.messageId,
      data: text.slice(0, 200),
    });
  }
  const event = PipelineEventSchema.safeParse(json);
  if (!event.success) {
    throw new PoisonMessageError(
      `message ${message.messageId ?? '?'} is not a pipeline event: ${event.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}`,
      { messageId: message.messageId, data: text.slice(0, 200) },
    );
  }
  return { event: event.data, messageId: message.messageId };
}

/** The Pub/Sub push request body, as a push subscription sends it (used by the twin's event bus). */
export interface PushEnvelope {
  message: { data: string; attributes: Record<string, string>; messageId: string; publishTime: string };
  subscription: string;
  deliveryAttempt?: number;
}

export function encodeEvent(event: PipelineEvent): string {
  return Buffer.from(JSON.stringify(event)).toString('base64');
}
