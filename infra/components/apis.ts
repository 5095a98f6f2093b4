import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type * as time from '@pulumiverse/time';
import { TYPE } from './common.js';
import { PROPAGATION_SECONDS, propagationWait } from './propagation.js';

/** The Google APIs the stack uses; every other component waits for them. */
export const REQUIRED_APIS = [
  'artifactregistry.googleapis.com', // function images
  'bigquery.googleapis.com',
  'cloudbuild.googleapis.com', // function builds and the deploy trigger
  'cloudfunctions.googleapis.com',
  'cloudresourcemanager.googleapis.com', // project IAM
  'cloudscheduler.googleapis.com',
  'iam.googleapis.com',
  'iamcredentials.googleapis.com', // OIDC tokens for Scheduler and Pub/Sub push
  'logging.googleapis.com', // log-based metrics
  'monitoring.googleapis.com', // alert policies
  'pubsub.googleapis.com',
  'run.googleapis.com', // gen2 functions are Cloud Run services
  'secretmanager.googleapis.com',
  'storage.googleapis.com',
] as const;

export interface ApisArgs {
  project: string;
  services?: readonly string[];
}

/**
 * Enables the APIs, then waits for the enabling to propagate (`ready`): a just-enabled API answers
 * SERVICE_DISABLED for a while. Everything else depends on `ready`. Destroying the stack leaves the
 * APIs on: other workloads may use them too.
 */
export class Apis extends pulumi.ComponentResource {
  readonly services: gcp.projects.Service[];
  /** Created a while after the last API is enabled; what the other components wait for. */
  readonly ready: time.Sleep;

  constructor(name: string, args: ApisArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${TYPE}:Apis`, name, {}, opts);
    this.services = (args.services ?? REQUIRED_APIS).map(
      (service) =>
        new gcp.projects.Service(
          `${name}-${service.split('.')[0]}`,
          { project: args.project, service, disableOnDestroy: false, disableDependentServices: false },
          { parent: this },
        ),
    );
    this.ready = propagationWait(
      `${name}-propagation`,
      {
        after: this.services,
        seconds: PROPAGATION_SECONDS.apis,
        // A newly added API is waited for again.
        triggers: { services: [...(args.services ?? REQUIRED_APIS)].sort().join(',') },
      },
      this,
    );
    this.registerOutputs({ services: this.services.map((s) => s.service) });
  }
}
