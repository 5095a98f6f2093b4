import type { PushEnvelope } from '../../../functions/src/core/pubsub-envelope.js';

const PUBSUB_MESSAGE_TYPE = 'type.googleapis.com/google.pubsub.v1.PubsubMessage';

/**
 * The CloudEvent `data` the Functions Framework hands a `cloudEvent` function for a Pub/Sub push
 * request (its legacy push and background-to-CloudEvent middlewares; checked against the real
 * framework in tests/integration/functions-framework.test.ts), so the twin calls `load` with
 * exactly what it receives in the cloud.
 */
export function pushToCloudEventData(envelope: PushEnvelope): { message: Record<string, unknown> } {
  return {
    message: {
      '@type': PUBSUB_MESSAGE_TYPE,
      data: envelope.message.data,
      attributes: envelope.message.attributes ?? {},
      messageId: envelope.message.messageId,
      publishTime: envelope.message.publishTime,
    },
  };
}
