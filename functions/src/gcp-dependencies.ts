import type { PipelineConfig } from './config.js';
import { BigQueryWarehouse } from './adapters/gcp/bigquery-warehouse.js';
import { GcsRawStore } from './adapters/gcp/gcs-raw-store.js';
import { PubSubEventPublisher } from './adapters/gcp/pubsub-publisher.js';
import { jsonLogger } from './core/logger.js';
import { systemClock } from './core/ports.js';
import type { ExtractHandlerSettings } from './extract/http-handler.js';
import type { ExtractDeps } from './extract/run-extract.js';
import type { LoadHandlerDeps } from './load/cloudevent-handler.js';

// The Google SDKs are imported when a function first builds its clients, and each function
// imports only its own: Pub/Sub alone takes half a second to load, and `load` never publishes.
// A cold start pays for what the function uses, not for all three SDKs.

/** The GCP project and resources; present whenever PIPELINE_ENGINE=gcp (parseConfig checks). */
function gcpOf(config: PipelineConfig): NonNullable<PipelineConfig['gcp']> {
  if (!config.gcp) throw new Error('GCP dependencies need PIPELINE_ENGINE=gcp');
  return config.gcp;
}

export function extractSettings(config: PipelineConfig): ExtractHandlerSettings {
  const { vsCurrency, vsCurrencies, coinLimit, perPage, cadenceMinutes } = config;
  return { vsCurrency, vsCurrencies, coinLimit, perPage, cadenceMinutes, secrets: [config.coingecko.apiKey] };
}

/** The lake bucket, with the client's own retries bounded by the invocation's retry budget. */
async function gcsRawStore(
  config: PipelineConfig,
  gcp: NonNullable<PipelineConfig['gcp']>,
): Promise<GcsRawStore> {
  const { Storage } = await import('@google-cloud/storage');
  const storage = new Storage({
    projectId: gcp.project,
    retryOptions: { autoRetry: true, maxRetries: 3, totalTimeout: config.retryBudgetMs / 1000 },
  });
  return new GcsRawStore(storage, gcp.bucket);
}

/**
 * The extract function's adapters: CoinGecko over got, GCS, Pub/Sub. Client retries are bounded
 * so that, with ours, one invocation stays inside its timeout; batching is off because a run
 * publishes one message and should not wait for a batch to fill.
 */
export async function gcpExtractDeps(config: PipelineConfig): Promise<ExtractDeps> {
  const gcp = gcpOf(config);
  const [{ PubSub }, { createCoinGeckoClient }, lake] = await Promise.all([
    import('./adapters/gcp/pubsub-sdk.js'),
    import('./extract/coingecko-client.js'),
    gcsRawStore(config, gcp),
  ]);
  const topic = new PubSub({ projectId: gcp.project }).topic(gcp.topic, {
    batching: { maxMessages: 1 },
    gaxOpts: { timeout: 60_000 },
  });
  // One client for both: scheduled runs and backfill requests share its throttle (the plan's rate).
  const client = createCoinGeckoClient(config.coingecko);
  return {
    market: client,
    history: client,
    lake,
    publisher: new PubSubEventPublisher(topic),
    clock: systemClock,
    logger: jsonLogger,
  };
}

/** The load function's adapters: GCS reads and the BigQuery warehouse (explicit location). */
export async function gcpLoadDeps(config: PipelineConfig): Promise<LoadHandlerDeps> {
  const gcp = gcpOf(config);
  const [{ BigQuery }, lake] = await Promise.all([
    import('./adapters/gcp/bigquery-sdk.js'),
    gcsRawStore(config, gcp),
  ]);
  const bigquery = new BigQuery({ projectId: gcp.project, location: gcp.location });
  return {
    lake,
    warehouse: new BigQueryWarehouse(bigquery, {
      project: gcp.project,
      dataset: gcp.dataset,
      location: gcp.location,
      retry: { budgetMs: config.retryBudgetMs },
    }),
    clock: systemClock,
    logger: jsonLogger,
  };
}
