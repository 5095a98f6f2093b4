import type { CloudEventFunction } from '@google-cloud/functions-framework';
import { BigQueryWarehouse } from '../adapters/gcp/bigquery-warehouse.js';
import { GcsRawStore } from '../adapters/gcp/gcs-raw-store.js';
import type { PipelineConfig } from '../config.js';
import { jsonLogger } from '../core/logger.js';
import { systemClock } from '../core/ports.js';
import { createLoadHandler, type LoadHandlerDeps } from '../load/cloudevent-handler.js';
import { gcpOf, gcsStorage } from './gcp-shared.js';

/** The load function's adapters: GCS reads and the BigQuery warehouse (explicit location). */
export async function gcpLoadDeps(config: PipelineConfig): Promise<LoadHandlerDeps> {
  const gcp = gcpOf(config);
  const [{ BigQuery }, storage] = await Promise.all([
    import('../adapters/gcp/bigquery-sdk.js'),
    gcsStorage(config, gcp),
  ]);
  const bigquery = new BigQuery({ projectId: gcp.project, location: gcp.location });
  return {
    lake: new GcsRawStore(storage, gcp.bucket),
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
