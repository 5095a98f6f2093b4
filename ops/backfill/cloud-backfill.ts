import * as z from 'zod';
import type { HistoryChunk } from '../../functions/src/history/chunk-plan.js';
import { backfillRequestOf } from '../../functions/src/history/backfill-request.js';
import {
  PUBLISH_BATCH,
  PubSubRestPublisher,
  type PubSubMessage,
} from '../../functions/src/adapters/gcp/pubsub-rest-publisher.js';
import { openStack, topicPath, type StackDeps, type StackTarget } from '../replay/stack-session.js';

/** The stack outputs `backfill --stack` needs (infra/index.ts exports them). */
const OUTPUTS = z.object({
  gcpProject: z.string().min(1),
  backfillRequestsTopic: z.string().min(1),
});

export interface CloudBackfillDeps extends StackDeps {
  sleep?: (ms: number) => Promise<void>;
}

/** What `backfill --stack S` did (README: "In the cloud"). */
export interface CloudBackfillSummary {
  topic: string;
  /** Planned chunk requests. */
  requests: number;
  published: number;
  /** Chunks whose batch was refused (after retries), with the reason. */
  failed: { chunkId: string; reason: string }[];
}

/**
 * The message of one chunk request: its JSON, base64, as `gcloud pubsub topics publish --message`
 * sends it (backfill-request.ts `backfillRequestFromPush` reads it); attributes for filtering only.
 */
function requestMessage(chunk: HistoryChunk): PubSubMessage {
  const request = backfillRequestOf(chunk);
  return {
    data: Buffer.from(JSON.stringify(request)).toString('base64'),
    attributes: { schemaVersion: String(request.schemaVersion), kind: request.kind, chunkId: chunk.chunkId },
  };
}

/**
 * Publishes one backfill request per planned chunk to the stack's `backfillRequestsTopic`, in
 * batches of 100 (429 and 5xx retried with backoff), through the same REST publisher as
 * `replay --stack`. A batch refused for good is reported, the others still go: publishing a
 * request again later is harmless (a chunk in the bucket is not fetched again).
 * @throws Error when the stack's outputs or a token cannot be had (nothing was published).
 */
export async function publishBackfillRequests(
  chunks: readonly HistoryChunk[],
  target: StackTarget,
  env: Readonly<Record<string, string | undefined>>,
  deps: CloudBackfillDeps = {},
): Promise<CloudBackfillSummary> {
  const { outputs, rest, url } = await openStack(target, OUTPUTS, env, deps);
  const publisher = new PubSubRestPublisher(
    rest,
    url('pubsub'),
    topicPath(outputs.gcpProject, outputs.backfillRequestsTopic),
    deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
  );
  const summary: CloudBackfillSummary = {
    topic: publisher.topicPath,
    requests: chunks.length,
    published: 0,
    failed: [],
  };
  for (let i = 0; i < chunks.length; i += PUBLISH_BATCH) {
    const batch = chunks.slice(i, i + PUBLISH_BATCH);
    try {
      await publisher.publishMessages(batch.map(requestMessage));
      summary.published += batch.length;
    } catch (e) {
      const reason = `publish failed: ${(e as Error).message}`;
      for (const chunk of batch) summary.failed.push({ chunkId: chunk.chunkId, reason });
    }
  }
  return summary;
}
