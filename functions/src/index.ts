/**
 * The Cloud Functions entry point (ARCHITECTURE.md §7.1): registers `extract` and `load` with the
 * Functions Framework (the names equal Pulumi's entryPoint) and only wires dependencies. Config is
 * parsed once, at cold start; a bad config fails the instance at once with every problem listed.
 * Each function builds only its own clients, on first use, so `load` never creates a CoinGecko
 * client and `extract` never a BigQuery one.
 */
import * as functions from '@google-cloud/functions-framework';
import { parseConfig } from './config.js';
import { createExtractHandler } from './extract/http-handler.js';
import { extractSettings, gcpExtractDeps, gcpLoadDeps } from './gcp-dependencies.js';
import { createLoadHandler } from './load/cloudevent-handler.js';

const config = parseConfig(process.env);
if (config.engine !== 'gcp') {
  // The local twin wires its own adapters (twin/src); this entry point only runs against GCP.
  throw new Error(
    'functions/src/index.ts runs on GCP (PIPELINE_ENGINE=gcp); run the local twin with `npm run pipeline`',
  );
}

let extract: functions.HttpFunction | undefined;
functions.http('extract', (req, res) => {
  extract ??= createExtractHandler(extractSettings(config), gcpExtractDeps(config));
  return extract(req, res);
});

let load: functions.CloudEventFunction<unknown> | undefined;
functions.cloudEvent<unknown>('load', (event: functions.CloudEvent<unknown>) => {
  load ??= createLoadHandler(gcpLoadDeps(config));
  return load(event);
});
