import * as z from 'zod/mini';
import './zod-messages.js';
import type { MarketPage } from './ports.js';

/**
 * The raw lake object of a run: a small manifest plus every page body byte for byte, so a run can
 * be replayed and the warehouse rebuilt from the lake alone (ARCHITECTURE.md §3). Page bodies are
 * spliced in verbatim rather than re-serialised, so number spellings like `2.1e+15` survive.
 */
export const RAW_OBJECT_SCHEMA_VERSION = 1;

const PageInfoSchema = z.object({
  page: z.int(),
  url: z.string(),
  status: z.int(),
  fetchedAt: z.string(),
  durationMs: z.number(),
  attempts: z.int(),
  records: z.int(),
  bytes: z.int(),
});

export const RawManifestSchema = z.object({
  schemaVersion: z.literal(RAW_OBJECT_SCHEMA_VERSION),
  runId: z.string(),
  source: z.string(),
  endpoint: z.string(),
  vsCurrency: z.string(),
  slot: z.string(),
  market: z.string(),
  request: z.object({ coinLimit: z.int(), perPage: z.int() }),
  pages: z.array(PageInfoSchema),
  recordCount: z.int(),
  extractedAt: z.string(),
});
export type RawManifest = z.infer<typeof RawManifestSchema>;
export type PageInfo = z.infer<typeof PageInfoSchema>;

export function pageInfo(page: MarketPage): PageInfo {
  return {
    page: page.page,
    url: page.url,
    status: page.status,
    fetchedAt: page.fetchedAt,
    durationMs: page.durationMs,
    attempts: page.attempts,
    records: page.records,
    bytes: page.body.length,
  };
}

/** `{"manifest":{…},"pages":[<body 1>,<body 2>,…]}` with the bodies' own bytes. */
export function encodeRawObject(manifest: RawManifest, bodies: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`{"manifest":${JSON.stringify(manifest)},"pages":[`)];
  bodies.forEach((body, i) => {
    if (i > 0) parts.push(Buffer.from(','));
    parts.push(body);
  });
  parts.push(Buffer.from(']}\n'));
  return Buffer.concat(parts);
}

export interface DecodedRawObject {
  manifest: RawManifest;
  /** Each page's parsed body; records are validated later, one by one. */
  pages: unknown[];
}

/** Parses a raw object; throws a plain Error with a specific message when it is not one. */
export function decodeRawObject(bytes: Buffer): DecodedRawObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new Error(`raw object is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const shape = z.object({ manifest: RawManifestSchema, pages: z.array(z.unknown()) }).safeParse(parsed);
  if (!shape.success) {
    const first = shape.error.issues[0];
    throw new Error(`raw object has an unexpected shape at ${first?.path.join('.')}: ${first?.message}`);
  }
  return shape.data;
}

/** What the lake keeps of a failed attempt: the error and the failing response body, as text. */
export interface FailureRecord {
  runId: string;
  slot: string;
  attemptAt: string;
  market: string;
  error: { code: string; message: string; retryable: boolean; details: Record<string, unknown> };
  body: string | null;
}
