import type { PipelineEvent } from '../../../functions/src/core/event.js';
import { describeError } from '../../../functions/src/core/errors.js';
import type { RawObjectRef } from '../../../functions/src/core/ports.js';
import { decodeRawObject } from '../../../functions/src/core/raw-object.js';
import { failureEvent, replayEvent, type DateRange } from '../../../functions/src/core/replay-event.js';
import {
  REPLAY_PREFIXES,
  replaySubject,
  selectReplayKeys,
  subjectField,
  type ReplayKey,
  type SubjectField,
} from '../../../functions/src/core/replay-keys.js';
import { historyReplayEvent } from '../../../functions/src/history/history-replay.js';

/** The lake as replay reads it: a listing, and each object's generation and bytes. */
export interface ReplayLakeReader {
  readonly bucket: string;
  list(prefix: string): Promise<string[]>;
  head(key: string): Promise<RawObjectRef | undefined>;
  read(ref: RawObjectRef): Promise<Buffer>;
}

/** What the load made of one re-delivered event. */
export type DeliveryOutcome =
  | { status: 'loaded'; rows: number }
  | { status: 'already_loaded' }
  /** A failed attempt's record, entered in the run table again (a loaded run is never overwritten). */
  | { status: 'failure_recorded' }
  | { status: 'failed'; reason: string };

/** The event bus and the load behind it: delivers one event and waits for its outcome. */
export interface ReplayDelivery {
  deliver(event: PipelineEvent): Promise<DeliveryOutcome>;
}

/** One object's fate, reported as replay goes. */
export interface ReplayStep {
  /** 1-based position among the objects found. */
  index: number;
  total: number;
  object: string;
  /** The run id or backfill chunk id. */
  subject: string;
  outcome: DeliveryOutcome;
}

/** An object that did not load: `runId` for a snapshot run, `chunkId` for a backfill chunk. */
export type ReplayFailure = { object: string; reason: string } & SubjectField;

/** The backfill chunks among the objects (their outcomes are counted in the totals too). */
export interface HistoryReplayCounts {
  /** Chunk answers and failed fetches' records in the range. */
  found: number;
  loaded: number;
  alreadyLoaded: number;
  /** Failed fetches recorded in ops_backfill_chunk again (a loaded chunk stays loaded). */
  failuresRecorded: number;
  /** fact_price_history points the loads inserted. */
  pointsLoaded: number;
}

/** The summary `replay` prints (README: "replay --json"). */
export interface ReplaySummary {
  range: DateRange;
  /** Raw objects, chunk answers and failed attempts' records in the range. */
  found: number;
  /** Events handed to the bus (a failure to read the object means no event). */
  delivered: number;
  loaded: number;
  alreadyLoaded: number;
  /** Failed attempts recorded in the run table again, so failed runs show as they did. */
  failuresRecorded: number;
  /** fact_market_snapshot rows the loads inserted (0 when everything was already there). */
  rowsLoaded: number;
  /** The backfill chunks' share of the counts above, and the history points loaded. */
  history: HistoryReplayCounts;
  failed: ReplayFailure[];
  /** Keys under the raw prefix that are not raw objects of this layout: left alone, named. */
  ignored: string[];
  /** Stopped (Ctrl-C) before every object was delivered. */
  interrupted: boolean;
}

export interface ReplayOptions {
  range: DateRange;
  signal?: AbortSignal;
  /** Called once the objects are listed, before the first delivery. */
  onStart?: (total: number) => void;
  onStep?: (step: ReplayStep) => void;
}

/**
 * Re-delivers the `raw_snapshot` event of every raw object in the range (and the `run_failed`
 * event of every failed attempt kept beside them), one at a time in slot order, then the
 * `history_chunk` event of every backfill chunk answer and failed fetch whose range touches it,
 * and waits for each load (ARCHITECTURE.md §8: the warehouse rebuilt from the lake alone).
 * One at a time because a dimension's history is built in slot order, and so that Ctrl-C (the
 * signal) stops between objects, never inside one. A missing generation or an unreadable object is
 * reported and skipped: the rest still loads. Never doubles a row: the load is idempotent by run
 * id and generation (run-load.ts).
 */
export async function replayLake(
  lake: ReplayLakeReader,
  delivery: ReplayDelivery,
  options: ReplayOptions,
): Promise<ReplaySummary> {
  const keys: string[] = [];
  for (const prefix of REPLAY_PREFIXES) keys.push(...(await lake.list(prefix)));
  const { selected, ignored } = selectReplayKeys(keys, options.range);
  const summary: ReplaySummary = {
    range: options.range,
    found: selected.length,
    delivered: 0,
    loaded: 0,
    alreadyLoaded: 0,
    failuresRecorded: 0,
    rowsLoaded: 0,
    history: {
      found: selected.filter((k) => k.kind === 'history_chunk').length,
      loaded: 0,
      alreadyLoaded: 0,
      failuresRecorded: 0,
      pointsLoaded: 0,
    },
    failed: [],
    ignored,
    interrupted: false,
  };
  options.onStart?.(selected.length);
  for (const [i, key] of selected.entries()) {
    if (options.signal?.aborted) {
      summary.interrupted = true;
      break;
    }
    const outcome = await replayOne(lake, delivery, key, () => (summary.delivered += 1));
    count(summary, key, outcome);
    const subject = replaySubject(key);
    options.onStep?.({ index: i + 1, total: selected.length, object: key.key, subject, outcome });
  }
  return summary;
}

/** Adds one outcome to the totals, and to the history counts when the key is a backfill chunk's. */
function count(summary: ReplaySummary, key: ReplayKey, outcome: DeliveryOutcome): void {
  const history = key.kind === 'history_chunk' ? summary.history : undefined;
  if (outcome.status === 'loaded') {
    summary.loaded += 1;
    if (history) {
      history.loaded += 1;
      history.pointsLoaded += outcome.rows;
    } else summary.rowsLoaded += outcome.rows;
  } else if (outcome.status === 'already_loaded') {
    summary.alreadyLoaded += 1;
    if (history) history.alreadyLoaded += 1;
  } else if (outcome.status === 'failure_recorded') {
    summary.failuresRecorded += 1;
    if (history) history.failuresRecorded += 1;
  } else summary.failed.push({ object: key.key, ...subjectField(key), reason: outcome.reason });
}

async function replayOne(
  lake: ReplayLakeReader,
  delivery: ReplayDelivery,
  key: ReplayKey,
  delivered: () => void,
): Promise<DeliveryOutcome> {
  let event: PipelineEvent;
  try {
    const ref = await lake.head(key.key);
    if (!ref) return { status: 'failed', reason: 'the object disappeared from the lake' };
    const bytes = await lake.read(ref);
    if (key.kind === 'history_chunk') event = historyReplayEvent(key, parseJson(bytes), ref);
    else if (key.kind === 'raw_snapshot') event = replayEvent(key, decodeRawObject(bytes).manifest, ref);
    else event = failureEvent(key, parseJson(bytes), ref);
  } catch (error) {
    return { status: 'failed', reason: describeError(error).message };
  }
  delivered();
  return delivery.deliver(event);
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new Error(`lake object is not JSON: ${(e as Error).message}`, { cause: e });
  }
}
