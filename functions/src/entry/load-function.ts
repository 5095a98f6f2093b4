import type { CloudEventFunction } from '@google-cloud/functions-framework';
import { BigQueryWarehouse } from '../adapters/gcp/bigquery-warehouse.js';
import { GcsRestReader } from '../adapters/gcp/gcs-rest-reader.js';
import { restClient } from '../adapters/gcp/google-rest.js';
import { Budget, DEFAULT_RETRY_POLICY } from '../adapters/gcp/retry-budget.js';
import type { PipelineConfig } from '../config.js';
import { jsonLogger } from '../core/logger.js';
import { systemClock } from '../core/ports.js';
import { createLoadHandler, type LoadHandlerDeps } from '../load/cloudevent-handler.js';
import { gcpOf, tokenFrom } from './gcp-shared.js';

/** How long one read of a raw object may take (objects are a few MB at most). */
const READ_TIMEOUT_MS = 60_000;

/**
 * The load function's adapters: the BigQuery warehouse (explicit location), and the lake read over
 * Cloud Storage's JSON API with the BigQuery client's credentials (gcs-rest-reader.ts says why):
 * one Google client, and one credential lookup, per function.
 */
export async function gcpLoadDeps(config: PipelineConfig): Promise<LoadHandlerDeps> {
  const gcp = gcpOf(config);
  const { BigQuery } = await import('../adapters/gcp/bigquery-sdk.js');
  const bigquery = new BigQuery({ projectId: gcp.project, location: gcp.location });
  const rest = restClient({
    token: tokenFrom(bigquery.authClient, gcp.storage.authenticated),
    timeoutMs: Math.min(READ_TIMEOUT_MS, config.retryBudgetMs),
  });
  const policy = { ...DEFAULT_RETRY_POLICY, budgetMs: config.retryBudgetMs };
  return {
    lake: new GcsRestReader(rest, gcp.storage.baseUrl, () => new Budget(systemClock, policy)),
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

/** The deployed `load`: its handler with the GCP adapters. */
export async function loadFunction(config: PipelineConfig): Promise<CloudEventFunction<unknown>> {
  return createLoadHandler(await gcpLoadDeps(config));
}
