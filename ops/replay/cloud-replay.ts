import { parseArgs } from 'node:util';
import * as z from 'zod';
import { eventSubject, type PipelineEvent } from '../../functions/src/core/event.js';
import {
  failureEvent,
  FAILURE_PREFIX,
  jsonRange,
  parseDateRange,
  RAW_PREFIX,
  replayEvent,
  type DateRange,
} from '../../functions/src/core/replay-event.js';
import {
  REPLAY_PREFIXES,
  selectReplayKeys,
  subjectField,
  type SubjectField,
} from '../../functions/src/core/replay-keys.js';
import {
  HISTORY_FAILURE_PREFIX,
  HISTORY_RAW_PREFIX,
  historyReplayEvent,
} from '../../functions/src/history/history-replay.js';
import { runCloudCommand } from '../cloud-check/command.js';
import { startProgress, type CloudCheckIo } from '../cloud-check/progress.js';
import { GcsRawListing } from './gcs-raw-listing.js';
import {
  PUBLISH_BATCH,
  PubSubRestPublisher,
} from '../../functions/src/adapters/gcp/pubsub-rest-publisher.js';
import { openStack, setValue, topicPath, type StackDeps, type StackSession } from './stack-session.js';

export const CLOUD_REPLAY_USAGE = `replay --stack: rebuild a deployed stack's warehouse from its lake

usage: crypto-pipeline replay --stack <name> [--from DATE] [--to DATE] [options]

  --stack NAME             the Pulumi stack (reads \`pulumi stack output --json --stack NAME\`)
  --outputs FILE           read the stack outputs from FILE (that command's JSON) instead
  --from DATE, --to DATE   first and last UTC day (the dt= partition), inclusive
  --dry-run                list what would be published, publish nothing
  --json                   print the summary as JSON
  --request-timeout SECONDS  per API call (default 30)

Lists the raw objects under gs://<rawBucket>/${RAW_PREFIX} (and the failed attempts under
${FAILURE_PREFIX}), then the backfill chunks under ${HISTORY_RAW_PREFIX} (and the failed
fetches under ${HISTORY_FAILURE_PREFIX}; --from/--to keep the chunks whose range touches a
day in range), reads each one (at its listed generation) and publishes the same event the
extract function (or the backfill) published to the events topic; the push subscription delivers
them to the load function, which skips runs and chunks already loaded from that generation, so
nothing doubles (a run loaded without its quality checks gets them). Watch the loads in ops_run (crypto-pipeline cloud-check).
Credentials: Application Default Credentials or CLOUD_CHECK_ACCESS_TOKEN.`;

/** The stack outputs replay needs (infra/index.ts exports them). */
const OUTPUTS = z.object({
  gcpProject: z.string().min(1),
  rawBucket: z.string().min(1),
  eventsTopic: z.string().min(1),
});

export interface CloudReplayDeps extends StackDeps {
  sleep?: (ms: number) => Promise<void>;
  /** Aborted by Ctrl-C: stop after the batch in flight. */
  signal?: AbortSignal;
}

interface Options {
  stack?: string;
  outputsFile?: string;
  range: DateRange;
  dryRun: boolean;
  json: boolean;
  requestTimeoutMs: number;
}

/** The summary `replay --stack --json` prints (README: "Rebuild from the lake"). */
export interface CloudReplaySummary {
  bucket: string;
  topic: string;
  range: DateRange;
  found: number;
  published: number;
  dryRun: boolean;
  /** A failure names the run (`runId`) or the backfill chunk (`chunkId`). */
  failed: ({ object: string; reason: string } & SubjectField)[];
  ignored: string[];
  interrupted: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;
const set = setValue;

function parseOptions(args: string[]): Options | 'help' {
  const { values } = parseArgs({
    args,
    options: {
      stack: { type: 'string' },
      outputs: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'request-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (set(values.stack) === undefined && set(values.outputs) === undefined)
    throw new Error('give --stack <name> (or --outputs <file>)');
  const timeout = values['request-timeout'] === undefined ? 30 : Number(values['request-timeout']);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new Error(
      `--request-timeout must be a positive number of seconds, got '${values['request-timeout']}'`,
    );
  return {
    stack: set(values.stack),
    outputsFile: set(values.outputs),
    range: parseDateRange(values.from, values.to),
    dryRun: values['dry-run'],
    json: values.json,
    requestTimeoutMs: timeout * 1000,
  };
}

/**
 * `crypto-pipeline replay --stack S`: re-publishes the events of the raw objects in the stack's
 * bucket (README: "Rebuild from the lake"). Resolves to the exit code: 0 every object in range
 * published, 1 one failed or the replay was stopped, 2 bad usage. Every call has a timeout.
 */
export function cloudReplayCommand(
  args: string[],
  env: Env,
  io: CloudCheckIo,
  deps: CloudReplayDeps = {},
): Promise<number> {
  return runCloudCommand(args, io, CLOUD_REPLAY_USAGE, parseOptions, (options) =>
    replayStack(options, env, io, deps),
  );
}

/** The replay, once its options are parsed. */
async function replayStack(
  options: Options,
  env: Env,
  io: CloudCheckIo,
  deps: CloudReplayDeps,
): Promise<number> {
  let session: StackSession<z.infer<typeof OUTPUTS>>;
  try {
    session = await openStack(options, OUTPUTS, env, deps);
  } catch (e) {
    io.out(`error: ${(e as Error).message}`);
    return 1;
  }
  const { outputs, rest, url } = session;
  const lake = new GcsRawListing(rest, url('storage'), outputs.rawBucket);
  const publisher = new PubSubRestPublisher(
    rest,
    url('pubsub'),
    topicPath(outputs.gcpProject, outputs.eventsTopic),
    deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
  );
  let summary: CloudReplaySummary;
  try {
    summary = await publishLake(lake, publisher, options, io, deps.signal);
  } catch (e) {
    io.out(`error: listing gs://${outputs.rawBucket}/${RAW_PREFIX} failed: ${(e as Error).message}`);
    return 1;
  }
  if (options.json) io.out(JSON.stringify({ ...summary, range: jsonRange(summary.range) }, null, 2));
  else {
    io.out(
      `${summary.found} lake object(s) found in gs://${summary.bucket}, ` +
        `${summary.dryRun ? 'would publish' : 'published'} ${summary.published} event(s) to ${summary.topic}, ` +
        `${summary.failed.length} failed`,
    );
    for (const f of summary.failed) io.out(`failed: ${f.object}: ${f.reason}`);
    if (summary.ignored.length > 0)
      io.out(`ignored ${summary.ignored.length} object(s) that are not raw objects`);
    if (summary.interrupted)
      io.out('stopped early; replay again to finish (runs already loaded are skipped)');
  }
  return summary.failed.length === 0 && !summary.interrupted ? 0 : 1;
}

/** Lists, reads each manifest, publishes in batches; failures are collected, not thrown. */
async function publishLake(
  lake: GcsRawListing,
  publisher: PubSubRestPublisher,
  options: Options,
  io: CloudCheckIo,
  signal: AbortSignal | undefined,
): Promise<CloudReplaySummary> {
  const listed = [];
  for (const prefix of REPLAY_PREFIXES) listed.push(...(await lake.list(prefix)));
  const generation = new Map(listed.map((o) => [o.name, o.generation]));
  const { selected, ignored } = selectReplayKeys(
    listed.map((o) => o.name),
    options.range,
  );
  const summary: CloudReplaySummary = {
    bucket: lake.bucket,
    topic: publisher.topicPath,
    range: options.range,
    found: selected.length,
    published: 0,
    dryRun: options.dryRun,
    failed: [],
    ignored,
    interrupted: false,
  };
  const progress = options.json
    ? undefined
    : startProgress(io, `replaying ${selected.length} lake object(s)`);
  let batch: { object: string; subject: SubjectField; event: PipelineEvent }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const sending = batch;
    batch = [];
    if (options.dryRun) {
      for (const b of sending)
        io.out(`would publish ${eventSubject(b.event)} (${b.object}#${b.event.generation})`);
      summary.published += sending.length;
      return;
    }
    try {
      await publisher.publish(sending.map((b) => b.event));
      summary.published += sending.length;
    } catch (e) {
      const reason = `publish failed: ${(e as Error).message}`;
      for (const b of sending) summary.failed.push({ object: b.object, ...b.subject, reason });
    }
    progress?.update(`published ${summary.published}/${selected.length}`);
  };
  for (const key of selected) {
    if (signal?.aborted) {
      summary.interrupted = true;
      break;
    }
    const ref = { bucket: lake.bucket, key: key.key, generation: generation.get(key.key)! };
    try {
      const object = { name: key.key, generation: ref.generation };
      const event =
        key.kind === 'history_chunk'
          ? historyReplayEvent(key, await lake.json(object), ref)
          : key.kind === 'raw_snapshot'
            ? replayEvent(key, await lake.manifest(object), ref)
            : failureEvent(key, await lake.json(object), ref);
      batch.push({ object: key.key, subject: subjectField(key), event });
    } catch (e) {
      summary.failed.push({ object: key.key, ...subjectField(key), reason: (e as Error).message });
    }
    if (batch.length >= PUBLISH_BATCH) await flush();
  }
  // What was read before a stop is still published: it is a complete, valid set of events.
  await flush();
  const done = `${summary.published} of ${selected.length} event(s) ${options.dryRun ? 'listed' : 'published'}`;
  if (summary.failed.length > 0 || summary.interrupted) progress?.fail(done);
  else progress?.succeed(done);
  return summary;
}
