import type { HttpFunction } from '@google-cloud/functions-framework';
import { describeError, isRetryable } from '../core/errors.js';
import { backfillChunk } from '../history/backfill-chunk.js';
import { backfillRequestFromPush, chunkOfRequest, isPushBody } from '../history/backfill-request.js';
import { runExtract, type ExtractDeps, type ExtractSettings } from './run-extract.js';

/** Cloud Scheduler sends the job's scheduled time in this header (RFC 3339). */
export const SCHEDULE_TIME_HEADER = 'x-cloudscheduler-scheduletime';

/**
 * Which time a request is for: `slot` in a JSON body or query (a manual re-run of a given slot),
 * else Cloud Scheduler's schedule-time header, else now. Undefined = not a valid time.
 */
export function requestedTime(
  body: unknown,
  query: Record<string, unknown>,
  header: string | undefined,
  now: Date,
): Date | undefined {
  const fromBody = typeof body === 'object' && body !== null ? (body as { slot?: unknown }).slot : undefined;
  const raw = fromBody ?? query.slot ?? header;
  if (raw === undefined || raw === '') return now;
  if (typeof raw !== 'string') return undefined;
  const time = new Date(raw);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/** The extract settings, and which currencies a request may ask for (the first is the default). */
export interface ExtractHandlerSettings extends ExtractSettings {
  vsCurrencies?: readonly string[];
}

/**
 * Which quote currency a request is for: `vsCurrency` in a JSON body or query (each Cloud Scheduler
 * job names its own), else the configured default. A currency that is not configured is refused:
 * a typo must not start a run (and fill a lake folder) nobody asked for.
 */
export function requestedCurrency(
  body: unknown,
  query: Record<string, unknown>,
  settings: ExtractHandlerSettings,
): { vsCurrency: string } | { error: string } {
  const fromBody =
    typeof body === 'object' && body !== null ? (body as { vsCurrency?: unknown }).vsCurrency : undefined;
  const raw = fromBody ?? query.vsCurrency;
  if (raw === undefined || raw === '') return { vsCurrency: settings.vsCurrency };
  const allowed = settings.vsCurrencies ?? [settings.vsCurrency];
  if (typeof raw !== 'string' || !allowed.includes(raw))
    return {
      error: `vsCurrency must be one of the configured currencies (${allowed.join(', ')}), got ${JSON.stringify(raw)}`,
    };
  return { vsCurrency: raw };
}

/**
 * The `extract` HTTP function. Answers 200 with a JSON summary when the run was extracted, already
 * existed, or failed for good (recorded; retrying cannot help), and 503 when the failure is
 * transient so that Cloud Scheduler's retry policy tries again.
 */
export function createExtractHandler(settings: ExtractHandlerSettings, deps: ExtractDeps): HttpFunction {
  return async (req, res) => {
    if (isPushBody(req.body)) {
      await handleBackfillRequest(req.body, { ...deps, secrets: settings.secrets }, (status, body) =>
        res.status(status).json(body),
      );
      return;
    }
    const time = requestedTime(req.body, req.query, req.get(SCHEDULE_TIME_HEADER), deps.clock.now());
    if (!time) {
      res.status(400).json({
        status: 'invalid_request',
        error: 'slot must be an ISO 8601 time, e.g. 2026-11-21T05:00:00Z',
      });
      return;
    }
    const currency = requestedCurrency(req.body, req.query, settings);
    if ('error' in currency) {
      res.status(400).json({ status: 'invalid_request', error: currency.error });
      return;
    }
    try {
      res.status(200).json(await runExtract(time, { ...settings, vsCurrency: currency.vsCurrency }, deps));
    } catch (error) {
      const e = describeError(error);
      res.status(isRetryable(error) ? 503 : 200).json({ status: 'failed', error: e });
    }
  };
}

/**
 * A backfill chunk request pushed from the `backfill-requests` subscription (ARCHITECTURE.md §4):
 * 200 acknowledges (done, already done, failed for good and recorded, or a malformed message, which
 * retrying cannot fix); 503 has Pub/Sub redeliver it later with backoff (a transient failure such
 * as a rate limit beyond the retry budget; its record is replaced once it loads).
 */
async function handleBackfillRequest(
  body: { message: { data?: unknown; messageId?: unknown } },
  deps: ExtractDeps & { secrets?: readonly (string | undefined)[] },
  reply: (status: number, body: unknown) => void,
): Promise<void> {
  const parsed = backfillRequestFromPush(body);
  if (!parsed.ok) {
    deps.logger.log('ERROR', `backfill request acknowledged without work: ${parsed.problem}`, {
      messageId: body.message.messageId,
    });
    reply(200, { status: 'invalid_request', error: parsed.problem });
    return;
  }
  if (!deps.history) {
    reply(500, { status: 'failed', error: 'this extract function has no market_chart client' });
    return;
  }
  try {
    const report = await backfillChunk(chunkOfRequest(parsed.request), { ...deps, history: deps.history });
    const retry = report.outcome === 'failed' && report.error?.retryable === true;
    reply(retry ? 503 : 200, {
      status: report.outcome,
      chunkId: report.chunk.chunkId,
      object: report.object,
      error: report.error,
    });
  } catch (error) {
    const e = describeError(error);
    reply(isRetryable(error) ? 503 : 200, { status: 'failed', error: e });
  }
}
