import type { TokenSource } from '../adapters/gcp/google-rest.js';
import type { PipelineConfig } from '../config.js';

/** The GCP project and resources; present whenever PIPELINE_ENGINE=gcp (parseConfig checks). */
export type GcpConfig = NonNullable<PipelineConfig['gcp']>;

export function gcpOf(config: PipelineConfig): GcpConfig {
  if (!config.gcp) throw new Error('GCP dependencies need PIPELINE_ENGINE=gcp');
  return config.gcp;
}

/**
 * The token of a REST call: the function's client's own credentials (its service account, cached
 * and refreshed by google-auth-library), or none for an emulator.
 */
export function tokenFrom(
  auth: { getAccessToken(): Promise<string | null | undefined> },
  authenticated: boolean,
): TokenSource {
  return authenticated ? () => auth.getAccessToken() : () => Promise.resolve(null);
}
