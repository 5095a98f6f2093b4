import { createHash } from 'node:crypto';

/**
 * Deterministic INT64 surrogate keys, computed in TypeScript so DuckDB and BigQuery hold the same
 * keys and a rebuild from the lake reproduces them. 53 bits keep them exact as JS numbers and in
 * JSON; the collision odds for a few thousand assets are around 1e-9.
 */
export function stableKey(...parts: string[]): number {
  const digest = createHash('sha256').update(parts.join('\u001f')).digest();
  return Number(digest.readBigUInt64BE(0) >> 11n);
}

/** Short hex digest for change detection (attribute hashes, job id suffixes). */
export function shortHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u001f')).digest('hex').slice(0, 16);
}
