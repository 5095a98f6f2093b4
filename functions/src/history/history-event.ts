import * as z from 'zod/mini';
import '../core/zod-messages.js';

/**
 * The Pub/Sub pointer to a backfill chunk in the lake (ARCHITECTURE.md §3: a pointer, never the
 * data). `history_chunk` is a kind of its own so the load function never mistakes history for a
 * live snapshot; with `error` set it points at a failed fetch's record instead of an answer.
 */
/** Versioned apart from run events: core/event.ts imports this module, so it cannot import back. */
export const HISTORY_EVENT_SCHEMA_VERSION = 1;

const isoTime = z.iso.datetime({ offset: true });

export const HistoryChunkEventSchema = z.object({
  schemaVersion: z.literal(HISTORY_EVENT_SCHEMA_VERSION),
  kind: z.literal('history_chunk'),
  chunkId: z
    .string()
    .check(z.regex(/^[a-z0-9._-]+_[a-z0-9]+_(daily|hourly)_\d{8}T\d{6}Z_\d{8}T\d{6}Z$/, 'not a chunk id')),
  source: z.literal('coingecko'),
  coinId: z.string().check(z.minLength(1)),
  vsCurrency: z.string().check(z.regex(/^[a-z0-9]+$/)),
  granularity: z.enum(['daily', 'hourly']),
  from: isoTime,
  to: isoTime,
  bucket: z.string().check(z.minLength(1)),
  object: z.string().check(z.minLength(1)),
  generation: z.string().check(z.regex(/^\d+$/, 'generation must be a decimal string')),
  pointCount: z.int().check(z.nonnegative()),
  error: z.optional(z.object({ code: z.string(), message: z.string(), retryable: z.boolean() })),
});

export type HistoryChunkEvent = z.infer<typeof HistoryChunkEventSchema>;
