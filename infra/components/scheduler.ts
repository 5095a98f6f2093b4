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
  /**
   * Quote currencies, at least one: one job each, the currency in its body. Separate jobs keep each
   * currency's run its own: its own retries, its own failure, its own idempotent run id.
   */
  vsCurrencies: string[];
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
  /** The first currency's job (named `jobName`, as before there were several). */
  readonly job: gcp.cloudscheduler.Job;
  readonly jobs: gcp.cloudscheduler.Job[];
  readonly jobName: pulumi.Output<string>;
  readonly jobNames: pulumi.Output<string[]>;
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
    if (args.vsCurrencies.length === 0) throw new Error('Scheduler needs at least one quote currency');
    // The first currency keeps the resource and job name a one-currency stack had: no replacement
    // on upgrade, and `schedulerJob` (cloud-check, runNowCommand) still names a job that exists.
    this.jobs = args.vsCurrencies.map((vsCurrency, i) =>
      this.extractJob(
        i === 0 ? `${name}-job` : `${name}-job-${vsCurrency}`,
        i === 0 ? args.jobName : `${args.jobName}-${vsCurrency}`,
        vsCurrency,
        args,
        invoker,
        opts,
      ),
    );
    this.job = this.jobs[0]!;
    this.jobName = this.job.name;
    this.jobNames = pulumi.all(this.jobs.map((j) => j.name));
    this.registerOutputs({
      jobName: this.jobName,
      jobNames: this.jobNames,
      serviceAccount: this.serviceAccount.email,
    });
  }

  /** One currency's job: the extract URL with `{"vsCurrency": …}` as the body. */
  private extractJob(
    resourceName: string,
    jobName: string,
    vsCurrency: string,
    args: SchedulerArgs,
    invoker: gcp.cloudrunv2.ServiceIamMember,
    opts: pulumi.ComponentResourceOptions | undefined,
  ): gcp.cloudscheduler.Job {
    return new gcp.cloudscheduler.Job(
      resourceName,
      {
        project: args.project,
        region: args.region,
        name: jobName,
        description: `Starts a crypto pipeline run in ${vsCurrency}: CoinGecko -> lake -> events.`,
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
          body: Buffer.from(JSON.stringify({ vsCurrency })).toString('base64'),
          oidcToken: { serviceAccountEmail: this.serviceAccount.email, audience: args.extractUrl },
        },
      },
      childOptions(this, opts, { dependsOn: [invoker] }),
    );
  }
}
