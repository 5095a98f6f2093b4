import * as z from 'zod/mini';
import '../core/zod-messages.js';
import { COIN_ID_PATTERN, historyChunkId, type HistoryChunk } from './chunk-plan.js';

/**
 * A request to backfill one chunk, as a message on the `backfill-requests` topic. Its push
 * subscription delivers it to the `extract` function (one instance, one request at a time, one
 * CoinGecko client whose throttle every call shares), so a fan-out of chunks keeps the plan's rate
 * however many are queued; Pub/Sub's retry policy paces redeliveries. The chunk id is recomputed
 * here, never taken from the message, so the lake key always matches the range fetched.
 */
export const BACKFILL_REQUEST_SCHEMA_VERSION = 1;

const isoTime = z.iso.datetime({ offset: true });

export const BackfillRequestSchema = z
  .object({
    schemaVersion: z.literal(BACKFILL_REQUEST_SCHEMA_VERSION),
    kind: z.literal('backfill_chunk'),
    coinId: z.string().check(z.regex(COIN_ID_PATTERN, 'not a CoinGecko coin id')),
    vsCurrency: z.string().check(z.regex(/^[a-z0-9]{2,10}$/, 'not a currency code')),
    granularity: z.enum(['daily', 'hourly']),
    from: isoTime,
    to: isoTime,
  })
  .check(z.refine((r) => Date.parse(r.from) < Date.parse(r.to), 'from must come before to'));
export type BackfillRequest = z.infer<typeof BackfillRequestSchema>;

/** The message for a planned chunk (what `crypto-pipeline backfill --print-requests` prints). */
export function backfillRequestOf(chunk: HistoryChunk): BackfillRequest {
  return {
    schemaVersion: BACKFILL_REQUEST_SCHEMA_VERSION,
    kind: 'backfill_chunk',
    coinId: chunk.coinId,
    vsCurrency: chunk.vsCurrency,
    granularity: chunk.granularity,
    from: chunk.from.toISOString(),
    to: chunk.to.toISOString(),
  };
}

export function chunkOfRequest(request: BackfillRequest): HistoryChunk {
  const base = {
    coinId: request.coinId,
    vsCurrency: request.vsCurrency,
    granularity: request.granularity,
    from: new Date(request.from),
    to: new Date(request.to),
  };
  return { chunkId: historyChunkId(base), ...base };
}

/** True for a Pub/Sub push request body (`{"message":{"data":…},"subscription":…}`). */
export function isPushBody(body: unknown): body is { message: { data?: unknown; messageId?: unknown } } {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { message?: unknown }).message === 'object' &&
    (body as { message?: unknown }).message !== null
  );
}

/** The backfill request in a push body, or a specific message saying why it is not one. */
export function backfillRequestFromPush(body: {
  message: { data?: unknown };
}): { ok: true; request: BackfillRequest } | { ok: false; problem: string } {
  const data = body.message.data;
  if (typeof data !== 'string' || data === '') return { ok: false, problem: 'push message has no data' };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  } catch {
    return { ok: false, problem: 'push message data is not JSON' };
  }
  const parsed = BackfillRequestSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      problem: `not a backfill request: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    };
  }
  return { ok: true, request: parsed.data };
}
