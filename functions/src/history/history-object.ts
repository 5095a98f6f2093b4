import * as z from 'zod/mini';
import '../core/zod-messages.js';

/**
 * The lake object of a backfill chunk: a small manifest (the request, when and how it was fetched)
 * and the market_chart body spliced in byte for byte (`{"manifest":{…},"body":<bytes>}`), like the
 * snapshot raw objects (core/raw-object.ts), so the warehouse can be rebuilt from the lake alone.
 */
export const HISTORY_OBJECT_SCHEMA_VERSION = 1;

export const HistoryManifestSchema = z.object({
  schemaVersion: z.literal(HISTORY_OBJECT_SCHEMA_VERSION),
  chunkId: z.string(),
  source: z.string(),
  coinId: z.string(),
  vsCurrency: z.string(),
  granularity: z.enum(['daily', 'hourly']),
  from: z.string(),
  to: z.string(),
  market: z.string(),
  url: z.string(),
  status: z.int(),
  fetchedAt: z.string(),
  durationMs: z.number(),
  attempts: z.int(),
  bytes: z.int(),
});
export type HistoryManifest = z.infer<typeof HistoryManifestSchema>;

/** Manifest first, then the body's own bytes (number spellings such as `1e-9` survive). */
export function encodeHistoryObject(manifest: HistoryManifest, body: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`{"manifest":${JSON.stringify(manifest)},"body":`),
    body,
    Buffer.from('}\n'),
  ]);
}

/** Parses a chunk object; throws a plain Error with a specific message when it is not one. */
export function decodeHistoryObject(bytes: Buffer): { manifest: HistoryManifest; body: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new Error(`history object is not JSON: ${(e as Error).message}`, { cause: e });
  }
  return parseHistoryObject(parsed);
}

/**
 * Checks an already parsed chunk object (the cloud replay reads objects as JSON through the
 * Storage API); throws a plain Error naming the first thing that is not as written.
 */
export function parseHistoryObject(parsed: unknown): { manifest: HistoryManifest; body: unknown } {
  const shape = z.object({ manifest: HistoryManifestSchema, body: z.unknown() }).safeParse(parsed);
  if (!shape.success) {
    const first = shape.error.issues[0];
    throw new Error(`history object has an unexpected shape at ${first?.path.join('.')}: ${first?.message}`);
  }
  return { manifest: shape.data.manifest, body: shape.data.body };
}
