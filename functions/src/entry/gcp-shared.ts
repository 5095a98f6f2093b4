import type { Storage } from '@google-cloud/storage';
import type { PipelineConfig } from '../config.js';

/** The GCP project and resources; present whenever PIPELINE_ENGINE=gcp (parseConfig checks). */
export type GcpConfig = NonNullable<PipelineConfig['gcp']>;

export function gcpOf(config: PipelineConfig): GcpConfig {
  if (!config.gcp) throw new Error('GCP dependencies need PIPELINE_ENGINE=gcp');
  return config.gcp;
}

/** The lake bucket's client, with its own retries bounded by the invocation's retry budget. */
export async function gcsStorage(config: PipelineConfig, gcp: GcpConfig): Promise<Storage> {
  const { Storage } = await import('@google-cloud/storage');
  return new Storage({
    projectId: gcp.project,
    retryOptions: { autoRetry: true, maxRetries: 3, totalTimeout: config.retryBudgetMs / 1000 },
  });
}
