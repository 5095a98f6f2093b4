/**
 * The Cloud Functions entry point (ARCHITECTURE.md §7.1): registers `extract` and `load` with the
 * Functions Framework (the names equal Pulumi's entryPoint) and only wires dependencies. Config is
 * parsed once, at cold start; a bad config fails the instance at once with every problem listed.
 * Each function imports its own code and clients (entry/), on first use: a cold start of `load`
 * never compiles the CoinGecko client or the extract code, and `extract` never BigQuery's (issue 12:
 * what a cold start imports is most of its time).
 */
import * as functions from '@google-cloud/functions-framework';
import { parseConfig } from './config.js';

const config = parseConfig(process.env);
if (config.engine !== 'gcp') {
  // The local twin wires its own adapters (twin/src); this entry point only runs against GCP.
  throw new Error(
    'functions/src/index.ts runs on GCP (PIPELINE_ENGINE=gcp); run the local twin with `npm run pipeline`',
  );
}

/**
 * Builds a handler once, on first use, and shares it with the invocations that arrive meanwhile.
 * A failed build is not kept: the next invocation tries again (as before the SDKs were lazy).
 */
function once<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

const extract = once(async () => (await import('./entry/extract-function.js')).extractFunction(config));
functions.http('extract', async (req, res) => (await extract())(req, res));

const load = once(async () => (await import('./entry/load-function.js')).loadFunction(config));
functions.cloudEvent<unknown>('load', async (event: functions.CloudEvent<unknown>) => (await load())(event));
