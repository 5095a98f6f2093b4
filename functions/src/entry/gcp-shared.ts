import type { PipelineConfig } from '../config.js';

/** The GCP project and resources; present whenever PIPELINE_ENGINE=gcp (parseConfig checks). */
export type GcpConfig = NonNullable<PipelineConfig['gcp']>;

export function gcpOf(config: PipelineConfig): GcpConfig {
  if (!config.gcp) throw new Error('GCP dependencies need PIPELINE_ENGINE=gcp');
  return config.gcp;
}
