import * as z from 'zod/mini';
import './zod-messages.js';
import { HistoryChunkEventSchema, type HistoryChunkEvent } from '../history/history-event.js';

/**
 * The Pub/Sub message (ARCHITECTURE.md §3): a small JSON pointer to a lake object, never the data.
 * `raw_snapshot` points at a run's raw object; `run_failed` at a failed attempt's record, so the
 * warehouse's run table shows failures too.
 */
export const EVENT_SCHEMA_VERSION = 1;

const isoTime = z.iso.datetime({ offset: true });

export const RunEventSchema = z.object({
  schemaVersion: z.literal(EVENT_SCHEMA_VERSION),
  kind: z.enum(['raw_snapshot', 'run_failed']),
  runId: z.string().check(z.regex(/^coingecko_[a-z0-9]+_\d{8}T\d{6}Z$/, 'not a run id')),
  source: z.literal('coingecko'),
  vsCurrency: z.string().check(z.regex(/^[a-z0-9]+$/)),
  slot: isoTime,
  bucket: z.string().check(z.minLength(1)),
  object: z.string().check(z.minLength(1)),
  /** GCS generations are int64 microsecond stamps; kept as a decimal string to stay exact in JSON. */
  generation: z.string().check(z.regex(/^\d+$/, 'generation must be a decimal string')),
  recordCount: z.int().check(z.nonnegative()),
  error: z.optional(z.object({ code: z.string(), message: z.string(), retryable: z.boolean() })),
});

export type RunEvent = z.infer<typeof RunEventSchema>;

/** Every event the load function takes: a run's snapshot (or failure), or a backfill chunk. */
export const PipelineEventSchema = z.discriminatedUnion('kind', [RunEventSchema, HistoryChunkEventSchema]);
export type PipelineEvent = RunEvent | HistoryChunkEvent;
export type { HistoryChunkEvent };

/** The id an event is logged and deduplicated under: the run id, or the backfill chunk id. */
export function eventSubject(event: PipelineEvent): string {
  return event.kind === 'history_chunk' ? event.chunkId : event.runId;
}

/** Attributes set on the Pub/Sub message, for filtering and for reading without decoding data. */
export function eventAttributes(event: PipelineEvent): Record<string, string> {
  if (event.kind === 'history_chunk') {
    return {
      schemaVersion: String(event.schemaVersion),
      kind: event.kind,
      chunkId: event.chunkId,
      from: event.from,
    };
  }
  return {
    schemaVersion: String(event.schemaVersion),
    kind: event.kind,
    runId: event.runId,
    slot: event.slot,
  };
}
