import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions, TYPE } from './common.js';

export interface ApiKeySecretArgs {
  project: string;
  secretId: string;
  /** The key, a Pulumi secret (encrypted in state as well as in the stack file). */
  value: pulumi.Input<string>;
  labels: Record<string, string>;
}

/**
 * The CoinGecko API key in Secret Manager. The function reads one pinned version, never `latest`:
 * rotating the key (`pulumi config set --secret coingeckoApiKey ...; pulumi up`) creates a new
 * version and redeploys the function onto it, so what runs is always what the stack says.
 */
export class ApiKeySecret extends pulumi.ComponentResource {
  readonly secret: gcp.secretmanager.Secret;
  readonly version: gcp.secretmanager.SecretVersion;
  /** Short id of the secret, as the function's secret env var wants it. */
  readonly secretId: pulumi.Output<string>;
  /** The pinned version number, e.g. "3". */
  readonly versionNumber: pulumi.Output<string>;

  constructor(name: string, args: ApiKeySecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${TYPE}:ApiKeySecret`, name, {}, opts);
    this.secret = new gcp.secretmanager.Secret(
      `${name}-secret`,
      { project: args.project, secretId: args.secretId, replication: { auto: {} }, labels: args.labels },
      childOptions(this, opts),
    );
    this.version = new gcp.secretmanager.SecretVersion(
      `${name}-version`,
      { secret: this.secret.id, secretData: pulumi.secret(args.value) },
      { parent: this },
    );
    this.secretId = this.secret.secretId;
    this.versionNumber = this.version.version;
    this.registerOutputs({ secretId: this.secretId, versionNumber: this.versionNumber });
  }
}
