import { EVENT_SCHEMA_VERSION, type RunEvent } from '../core/event.js';
import type { HistorySource } from '../history/history-source.js';
import { describeError, PipelineError } from '../core/errors.js';
import { failureObjectKey, rawObjectKey } from '../core/lake-layout.js';
import type { Logger } from '../core/logger.js';
import { createRedactor, redactError, type Redactor } from '../core/redact.js';
import type { Clock, EventPublisher, MarketSource, RawObjectRef, RawStore } from '../core/ports.js';
import {
  decodeRawObject,
  encodeRawObject,
  pageInfo,
  RAW_OBJECT_SCHEMA_VERSION,
  type FailureRecord,
  type RawManifest,
} from '../core/raw-object.js';
import { runIdentity, type RunIdentity } from '../core/run-identity.js';
import { ExtractError } from './errors.js';

export interface ExtractSettings {
  vsCurrency: string;
  coinLimit: number;
  perPage: number;
  cadenceMinutes: number;
  /**
   * Values that must never be stored or logged (the API key): removed from raw bodies, failure
   * records, error messages and log lines, in every form an echo could take (core/redact.ts).
   */
  secrets?: readonly (string | undefined)[];
}

export interface ExtractDeps {
  market: MarketSource;
  /**
   * market_chart/range for backfill requests: the same client as `market` in the cloud, so
   * scheduled runs and backfill chunks share one throttle (the plan's rate).
   */
  history?: HistorySource;
  lake: RawStore;
  publisher: EventPublisher;
  clock: Clock;
  logger: Logger;
}

export interface ExtractSummary {
  /** `already_extracted`: the run's raw object existed; its event was published again, nothing written. */
  status: 'extracted' | 'already_extracted' | 'failed';
  runId: string;
  slot: string;
  object: string;
  generation: string | null;
  records: number;
  pages: number;
  messageId: string | null;
  durationMs: number;
  error?: { code: string; message: string; retryable: boolean };
}

function pointer(run: RunIdentity, ref: RawObjectRef, kind: RunEvent['kind'], recordCount: number): RunEvent {
  return {
    schemaVersion: EVENT_SCHEMA_VERSION,
    kind,
    runId: run.runId,
    source: run.source,
    vsCurrency: run.vsCurrency,
    slot: run.slot.toISOString(),
    bucket: ref.bucket,
    object: ref.key,
    generation: ref.generation,
    recordCount,
  };
}

/**
 * One extract run (ARCHITECTURE.md §2, §4): fetch every page, write one raw object create-only at
 * the run's key, publish the pointer event. Idempotent: when the object already exists the run
 * already happened, so its event is published again (healing a crash between write and publish)
 * and nothing is fetched or written. Any failure (the fetch, a lake that refuses the write, an
 * existing object that is not a raw object) stores and publishes nothing partial: the failure
 * itself is kept in the lake and announced, so the run table shows it, then the error is rethrown.
 */
export async function runExtract(
  scheduledTime: Date,
  settings: ExtractSettings,
  deps: ExtractDeps,
): Promise<ExtractSummary> {
  const redactor = createRedactor(settings.secrets ?? []);
  const started = deps.clock.now();
  const run = runIdentity(scheduledTime, settings.vsCurrency, settings.cadenceMinutes);
  const elapsed = () => deps.clock.now().getTime() - started.getTime();
  try {
    return await extract(run, settings, deps, redactor, elapsed);
  } catch (error) {
    // Redacted before anything logs, records, publishes or answers with it.
    redactError(error, redactor);
    await recordFailure(run, error, deps, redactor);
    throw error;
  }
}

async function extract(
  run: RunIdentity,
  settings: ExtractSettings,
  deps: ExtractDeps,
  redactor: Redactor,
  elapsed: () => number,
): Promise<ExtractSummary> {
  const key = rawObjectKey(run);
  const existing = await deps.lake.head(key);
  if (existing) return republish(run, existing, elapsed, deps);

  const pages = await deps.market.fetchMarkets({
    vsCurrency: run.vsCurrency,
    coinLimit: settings.coinLimit,
    perPage: settings.perPage,
  });
  // Bodies are kept verbatim except for an echoed secret; the manifest counts the stored bytes.
  const stored = pages.map((p) => ({ ...p, body: redactor.bytes(p.body) }));
  const manifest: RawManifest = {
    schemaVersion: RAW_OBJECT_SCHEMA_VERSION,
    runId: run.runId,
    source: run.source,
    endpoint: '/api/v3/coins/markets',
    vsCurrency: run.vsCurrency,
    slot: run.slot.toISOString(),
    market: deps.market.description,
    request: { coinLimit: settings.coinLimit, perPage: settings.perPage },
    pages: stored.map(pageInfo),
    recordCount: pages.reduce((n, p) => n + p.records, 0),
    extractedAt: deps.clock.now().toISOString(),
  };

  const { created, ref } = await lakeWrite(deps.lake, key, () =>
    deps.lake.createOnly(
      key,
      encodeRawObject(
        manifest,
        stored.map((p) => p.body),
      ),
      'application/json',
    ),
  );
  if (!created) return republish(run, ref, elapsed, deps); // a concurrent attempt won the race
  const summary = await announce('extracted', run, ref, manifest, elapsed, deps);
  deps.logger.log('INFO', `extracted ${run.runId}: ${summary.records} records`, { ...summary });
  return summary;
}

/** Permission problems do not go away by retrying; a full disk or a flaky mount may. */
const TERMINAL_WRITE_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * A lake write whose failure is an ExtractError saying what failed: adapters raise their own
 * pipeline errors, but a file system raises bare errno errors (ENOSPC, EACCES).
 */
async function lakeWrite<T>(lake: RawStore, key: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof PipelineError) throw error;
    const errno = (error as NodeJS.ErrnoException | null)?.code;
    throw new ExtractError(
      `cannot write ${key} to the lake ${lake.bucket}: ${describeError(error).message}`,
      {
        code: 'lake_write_failed',
        retryable: errno === undefined || !TERMINAL_WRITE_ERRORS.has(errno),
        cause: error,
        details: { errno },
      },
    );
  }
}

/** Publishes the run's pointer event and describes the run for the caller. */
async function announce(
  status: 'extracted' | 'already_extracted',
  run: RunIdentity,
  ref: RawObjectRef,
  manifest: RawManifest,
  elapsed: () => number,
  deps: ExtractDeps,
): Promise<ExtractSummary> {
  const messageId = await deps.publisher.publish(pointer(run, ref, 'raw_snapshot', manifest.recordCount));
  return {
    status,
    runId: run.runId,
    slot: run.slot.toISOString(),
    object: ref.key,
    generation: ref.generation,
    records: manifest.recordCount,
    pages: manifest.pages.length,
    messageId,
    durationMs: elapsed(),
  };
}

async function republish(
  run: RunIdentity,
  ref: RawObjectRef,
  elapsed: () => number,
  deps: ExtractDeps,
): Promise<ExtractSummary> {
  let manifest: RawManifest;
  try {
    manifest = decodeRawObject(await deps.lake.read(ref)).manifest;
  } catch (error) {
    if (error instanceof PipelineError) throw error;
    // The bytes at the run's key are not a raw object: never overwrite them, say so.
    throw new ExtractError(`existing object ${ref.key} is not a raw object: ${(error as Error).message}`, {
      code: 'raw_object_malformed',
      retryable: false,
    });
  }
  const summary = await announce('already_extracted', run, ref, manifest, elapsed, deps);
  deps.logger.log('INFO', `run ${run.runId} already extracted; event published again`, { ...summary });
  return summary;
}

/**
 * Keeps a failed attempt in the lake (with the failing body, when there was one) and announces it so
 * the warehouse's run table shows the failure. When the lake refuses the record too (it is full or
 * read-only: often the very failure being recorded), the event is still published: it carries the
 * error, and generation "0" says that no record object was written. Best effort: the original
 * error is what the caller gets.
 */
async function recordFailure(
  run: RunIdentity,
  error: unknown,
  deps: ExtractDeps,
  redactor: Redactor,
): Promise<void> {
  const attemptAt = deps.clock.now();
  const described = describeError(error);
  // Market errors carry the failing response body (CoinGeckoError.body); keep it with the failure.
  const failingBody = (error as { body?: unknown } | null)?.body;
  const body = typeof failingBody === 'string' ? failingBody : null;
  const record: FailureRecord = {
    runId: run.runId,
    slot: run.slot.toISOString(),
    attemptAt: attemptAt.toISOString(),
    market: deps.market.description,
    error: {
      ...described,
      details: error instanceof PipelineError ? error.details : {},
    },
    body,
  };
  deps.logger.log('ERROR', `extract ${run.runId} failed: ${described.message}`, {
    runId: run.runId,
    code: described.code,
    retryable: described.retryable,
  });
  const key = failureObjectKey(run, attemptAt);
  let ref: RawObjectRef;
  try {
    // The whole record, failing body included: an API or proxy may echo the key in it.
    ({ ref } = await deps.lake.createOnly(
      key,
      redactor.bytes(Buffer.from(JSON.stringify(record))),
      'application/json',
    ));
  } catch (recordError) {
    deps.logger.log('WARNING', `could not keep the failure record of ${run.runId} in the lake`, {
      runId: run.runId,
      error: describeError(recordError).message,
    });
    ref = { bucket: deps.lake.bucket, key, generation: '0' };
  }
  try {
    const event: RunEvent = { ...pointer(run, ref, 'run_failed', 0), error: described };
    await deps.publisher.publish(event);
  } catch (publishError) {
    deps.logger.log('WARNING', `could not announce the failure of ${run.runId}`, {
      runId: run.runId,
      error: describeError(publishError).message,
    });
  }
}
