import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions, TYPE } from './common.js';

export interface SchedulerArgs {
  project: string;
  region: string;
  prefix: string;
  jobName: string;
  /** 5-field unix cron, evaluated in UTC (the slot arithmetic is UTC too). */
  schedule: string;
  /** The extract function's Cloud Run service (full resource name) and URL. */
  extractService: pulumi.Input<string>;
  extractUrl: pulumi.Input<string>;
  extractTimeoutSeconds: number;
}

/** Cloud Scheduler's largest attempt deadline for HTTP targets. */
const MAX_ATTEMPT_DEADLINE_SECONDS = 1800;

/**
 * The schedule: a Cloud Scheduler job that POSTs to the extract URL with an OIDC token of its own
 * service account, the only principal allowed to invoke the extract service. The attempt deadline
 * outlasts the function's timeout, so Scheduler never gives up on a run that is still working and
 * starts a second one. Retries are safe: Scheduler sends the same X-CloudScheduler-ScheduleTime on
 * a retry, so the run keeps its slot and its identity (ARCHITECTURE.md §3).
 */
export class Scheduler extends pulumi.ComponentResource {
  readonly serviceAccount: gcp.serviceaccount.Account;
  readonly job: gcp.cloudscheduler.Job;
  readonly jobName: pulumi.Output<string>;
  readonly attemptDeadlineSeconds: number;

  constructor(name: string, args: SchedulerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${TYPE}:Scheduler`, name, {}, opts);
    this.attemptDeadlineSeconds = Math.min(MAX_ATTEMPT_DEADLINE_SECONDS, args.extractTimeoutSeconds + 30);
    if (this.attemptDeadlineSeconds < args.extractTimeoutSeconds) {
      throw new Error(
        `extract timeout ${args.extractTimeoutSeconds}s exceeds Cloud Scheduler's largest attempt deadline`,
      );
    }
    this.serviceAccount = new gcp.serviceaccount.Account(
      `${name}-sa`,
      {
        project: args.project,
        accountId: `${args.prefix}-scheduler`,
        displayName: 'crypto pipeline: scheduler',
        description: 'Identity in the OIDC token Cloud Scheduler invokes the extract function with.',
      },
      childOptions(this, opts),
    );
    const invoker = new gcp.cloudrunv2.ServiceIamMember(
      `${name}-extract-invoker`,
      {
        project: args.project,
        location: args.region,
        name: args.extractService,
        role: 'roles/run.invoker',
        member: this.serviceAccount.member,
      },
      { parent: this },
    );
    this.job = new gcp.cloudscheduler.Job(
      `${name}-job`,
      {
        project: args.project,
        region: args.region,
        name: args.jobName,
        description: 'Starts a crypto pipeline run: CoinGecko -> lake -> events.',
        schedule: args.schedule,
        timeZone: 'Etc/UTC',
        attemptDeadline: `${this.attemptDeadlineSeconds}s`,
        retryConfig: {
          retryCount: 3,
          minBackoffDuration: '30s',
          maxBackoffDuration: '300s',
          maxDoublings: 3,
        },
        httpTarget: {
          uri: args.extractUrl,
          httpMethod: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: Buffer.from('{}').toString('base64'),
          oidcToken: { serviceAccountEmail: this.serviceAccount.email, audience: args.extractUrl },
        },
      },
      childOptions(this, opts, { dependsOn: [invoker] }),
    );
    this.jobName = this.job.name;
    this.registerOutputs({ jobName: this.jobName, serviceAccount: this.serviceAccount.email });
  }
}
