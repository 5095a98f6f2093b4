import type { HttpFunction } from '@google-cloud/functions-framework';
import type { Storage } from '@google-cloud/storage';
import { GcsRawStore } from '../adapters/gcp/gcs-raw-store.js';
import { restClient } from '../adapters/gcp/google-rest.js';
import { PubSubEventPublisher } from '../adapters/gcp/pubsub-publisher.js';
import { PubSubRestPublisher } from '../adapters/gcp/pubsub-rest-publisher.js';
import type { PipelineConfig } from '../config.js';
import { jsonLogger } from '../core/logger.js';
import { systemClock } from '../core/ports.js';
import { createExtractHandler, type ExtractHandlerSettings } from '../extract/http-handler.js';
import type { ExtractDeps } from '../extract/run-extract.js';
import { gcpOf, tokenFrom, type GcpConfig } from './gcp-shared.js';

/** The lake bucket's client, with its own retries bounded by the invocation's retry budget. */
async function gcsStorage(config: PipelineConfig, gcp: GcpConfig): Promise<Storage> {
  const { Storage } = await import('@google-cloud/storage');
  return new Storage({
    projectId: gcp.project,
    retryOptions: { autoRetry: true, maxRetries: 3, totalTimeout: config.retryBudgetMs / 1000 },
  });
}

/** How long one publish call may take; the REST publisher retries 429 and 5xx a few times itself. */
const PUBLISH_TIMEOUT_MS = 30_000;

export function extractSettings(config: PipelineConfig): ExtractHandlerSettings {
  const { vsCurrency, vsCurrencies, coinLimit, perPage, cadenceMinutes } = config;
  return { vsCurrency, vsCurrencies, coinLimit, perPage, cadenceMinutes, secrets: [config.coingecko.apiKey] };
}

/**
 * The extract function's adapters: CoinGecko over got, GCS, and Pub/Sub's REST API. The publish
 * token comes from the Storage client's auth client (the function's service account, cached and
 * refreshed by google-auth-library): one credential lookup for both, and no second auth library
 * to load at a cold start.
 */
export async function gcpExtractDeps(config: PipelineConfig): Promise<ExtractDeps> {
  const gcp = gcpOf(config);
  const [{ createCoinGeckoClient }, storage] = await Promise.all([
    import('../extract/coingecko-client.js'),
    gcsStorage(config, gcp),
  ]);
  const rest = restClient({
    token: tokenFrom(storage.authClient, gcp.pubsub.authenticated),
    timeoutMs: Math.min(PUBLISH_TIMEOUT_MS, config.retryBudgetMs),
  });
  const topic = new PubSubRestPublisher(
    rest,
    gcp.pubsub.baseUrl,
    `projects/${gcp.project}/topics/${gcp.topic}`,
    systemClock.sleep,
  );
  // One client for both: scheduled runs and backfill requests share its throttle (the plan's rate).
  const client = createCoinGeckoClient(config.coingecko);
  return {
    market: client,
    history: client,
    lake: new GcsRawStore(storage, gcp.bucket),
    publisher: new PubSubEventPublisher(topic),
    clock: systemClock,
    logger: jsonLogger,
  };
}

/** The deployed `extract`: its handler with the GCP adapters. */
export async function extractFunction(config: PipelineConfig): Promise<HttpFunction> {
  return createExtractHandler(extractSettings(config), await gcpExtractDeps(config));
}
