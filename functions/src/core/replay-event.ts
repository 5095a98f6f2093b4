import * as z from 'zod/mini';
import './zod-messages.js';
import { EVENT_SCHEMA_VERSION, type RunEvent } from './event.js';
import { ENDPOINT, SOURCE } from './run-identity.js';
import type { RawObjectRef } from './ports.js';
import type { RawManifest } from './raw-object.js';

/**
 * Rebuilding the warehouse from the lake (ARCHITECTURE.md §3, §8): the pieces that the twin's
 * `replay` and the cloud's `replay --stack` share. A raw object's key says which run and day it
 * holds; its manifest and generation give back the exact pointer event the extract published.
 */

/** Where every raw `/coins/markets` object lives, in the bucket and in the twin's lake folder. */
export const RAW_PREFIX = `raw/${SOURCE}/${ENDPOINT}/`;
/** Where failed attempts are kept (lake-layout.ts `failureObjectKey`): replayed so failed runs show. */
export const FAILURE_PREFIX = `failures/${SOURCE}/${ENDPOINT}/`;

/**
 * What a lake key says: a raw object (`raw/…/vs_currency=usd/dt=2026-11-21/<run id>.json`) or a
 * failed attempt's record (`failures/…/dt=2026-11-21/<run id>/<attempt time>.json`).
 */
export interface RawObjectKey {
  /** The event it gives back: `raw_snapshot` for a raw object, `run_failed` for a failure record. */
  kind: RunEvent['kind'];
  /** The failed attempt's compact time; '' for a raw object. */
  attempt: string;
  key: string;
  vsCurrency: string;
  /** The `dt=` partition, `YYYY-MM-DD`. */
  date: string;
  runId: string;
  /** `20261121T050000Z`, from the run id: sorts runs in slot order. */
  compactSlot: string;
}

const RAW_KEY =
  /^raw\/coingecko\/coins_markets\/vs_currency=([a-z0-9]+)\/dt=(\d{4}-\d{2}-\d{2})\/(coingecko_([a-z0-9]+)_(\d{8}T\d{6}Z))\.json$/;
const FAILURE_KEY =
  /^failures\/coingecko\/coins_markets\/vs_currency=([a-z0-9]+)\/dt=(\d{4}-\d{2}-\d{2})\/(coingecko_([a-z0-9]+)_(\d{8}T\d{6}Z))\/(\d{8}T\d{6}Z)\.json$/;

/**
 * Reads a raw object's key; undefined for anything else under the prefix (a stray file, a key whose
 * currency folder and run id disagree), which replay reports rather than guesses at.
 */
export function parseRawObjectKey(key: string): RawObjectKey | undefined {
  const raw = RAW_KEY.exec(key);
  const failure = raw ? null : FAILURE_KEY.exec(key);
  const m = raw ?? failure;
  if (!m) return undefined;
  const [, vsCurrency, date, runId, runCurrency, compactSlot, attempt] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  if (runCurrency !== vsCurrency) return undefined;
  // The run id's day must be the partition's: a run filed under another day would escape the filter.
  if (compactSlot.slice(0, 8) !== date.replace(/-/g, '')) return undefined;
  const kind = raw ? 'raw_snapshot' : 'run_failed';
  return { kind, attempt: attempt ?? '', key, vsCurrency, date, runId, compactSlot };
}

/** Inclusive UTC days; either end may be open. */
export interface DateRange {
  from?: string;
  to?: string;
}

/** Open ends as null in JSON, so the key is always there. */
export function jsonRange(range: DateRange): { from: string | null; to: string | null } {
  return { from: range.from ?? null, to: range.to ?? null };
}

/** Whether a `dt=` partition day falls in the range (ISO dates compare as strings). */
export function inDateRange(date: string, range: DateRange): boolean {
  if (range.from !== undefined && date < range.from) return false;
  if (range.to !== undefined && date > range.to) return false;
  return true;
}

/**
 * Validates `--from` / `--to`: real calendar days (`YYYY-MM-DD`), from not after to. Throws a
 * RangeError naming the option and value; callers turn it into their usage error.
 */
export function parseDateRange(from: string | undefined, to: string | undefined): DateRange {
  const day = (name: string, text: string | undefined): string | undefined => {
    if (text === undefined) return undefined;
    const ok =
      /^\d{4}-\d{2}-\d{2}$/.test(text) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text);
    if (!ok)
      throw new RangeError(`--${name} must be a UTC date such as 2026-11-21, got ${JSON.stringify(text)}`);
    return text;
  };
  const range = { from: day('from', from), to: day('to', to) };
  if (range.from !== undefined && range.to !== undefined && range.from > range.to)
    throw new RangeError(`--from ${range.from} is after --to ${range.to}`);
  return range;
}

const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Slot order, then currency: loads meet the asset history in the order it happened. Within a run,
 * its failed attempts (in attempt order) before its raw object, as they happened: a failure never
 * overwrites a loaded run, and the last failure is what a run that never loaded shows.
 */
export function compareRawKeys(a: RawObjectKey, b: RawObjectKey): number {
  return (
    order(a.compactSlot, b.compactSlot) ||
    order(a.vsCurrency, b.vsCurrency) ||
    order(a.kind === 'run_failed' ? '0' : '1', b.kind === 'run_failed' ? '0' : '1') ||
    order(a.attempt, b.attempt)
  );
}

const FailureRecordSchema = z.object({
  runId: z.string(),
  error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }),
});

/**
 * The `run_failed` event the extract published for a failed attempt (run-extract.ts
 * `recordFailure`), rebuilt from the record it kept in the lake (parsed JSON). Throws when it is
 * not a failure record of the key's run.
 */
export function failureEvent(key: RawObjectKey, json: unknown, ref: RawObjectRef): RunEvent {
  const parsed = FailureRecordSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`not a failure record: ${first?.path.join('.') ?? ''} ${first?.message ?? ''}`.trim());
  }
  if (parsed.data.runId !== key.runId)
    throw new Error(`${key.key} holds the failure of run ${parsed.data.runId}, not ${key.runId}`);
  const { code, message, retryable } = parsed.data.error;
  return {
    schemaVersion: EVENT_SCHEMA_VERSION,
    kind: 'run_failed',
    runId: key.runId,
    source: SOURCE,
    vsCurrency: key.vsCurrency,
    slot: compactToIso(key.compactSlot),
    bucket: ref.bucket,
    object: ref.key,
    generation: ref.generation,
    recordCount: 0,
    error: { code, message, retryable },
  };
}

/** `20261121T050000Z` -> `2026-11-21T05:00:00.000Z` (the compact times of lake keys). */
export function compactToIso(compact: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(compact)!;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z`;
}

/**
 * The `raw_snapshot` event the extract published for this object (run-extract.ts `pointer`), rebuilt
 * from its manifest and current generation. Throws when the manifest belongs to another run than
 * the key says: loading it would file one run's rows under another's id.
 */
export function replayEvent(key: RawObjectKey, manifest: RawManifest, ref: RawObjectRef): RunEvent {
  if (manifest.runId !== key.runId)
    throw new Error(`${key.key} holds the manifest of run ${manifest.runId}, not ${key.runId}`);
  return {
    schemaVersion: EVENT_SCHEMA_VERSION,
    kind: 'raw_snapshot',
    runId: manifest.runId,
    source: SOURCE,
    vsCurrency: manifest.vsCurrency,
    slot: new Date(manifest.slot).toISOString(),
    bucket: ref.bucket,
    object: ref.key,
    generation: ref.generation,
    recordCount: manifest.recordCount,
  };
}
