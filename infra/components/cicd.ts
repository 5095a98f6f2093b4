import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions, TYPE } from './common.js';

export interface CiCdArgs {
  project: string;
  prefix: string;
  stack: string;
  githubOwner: string;
  githubRepo: string;
  branch: string;
  /** Existing bucket holding Pulumi state (`pulumi login gs://<bucket>`); created by hand, see README.md, "Deploy to Google Cloud". */
  stateBucket: string;
  /** Existing Secret Manager secret holding PULUMI_CONFIG_PASSPHRASE. */
  passphraseSecret: string;
  /** Service accounts the deployment runs things as (functions, their builds, Scheduler, push). */
  runtimeServiceAccounts: gcp.serviceaccount.Account[];
  /** Project-level roles the stack grants to those accounts; the only ones the deployer may grant. */
  grantableProjectRoles: string[];
  /** Location of the npm cache bucket (the stack's region). */
  location: string;
  labels: Record<string, string>;
}

/**
 * Project-level roles of the deployer: each the narrowest predefined role that manages one kind of
 * resource the stack owns. Notably absent: owner, editor, service-account user or token creator at
 * project level (actAs is granted on the runtime accounts only), and service-account admin (the
 * deployer can manage the accounts' IAM only per account, and cannot create new identities).
 */
export const DEPLOYER_PROJECT_ROLES = [
  'roles/serviceusage.serviceUsageAdmin', // enable the APIs
  'roles/cloudfunctions.developer',
  'roles/run.admin', // run.invoker bindings on the functions' services
  'roles/storage.admin', // buckets and their IAM
  'roles/bigquery.dataOwner', // dataset, tables, views, dataset IAM
  'roles/pubsub.admin', // topics, subscriptions and their IAM
  'roles/secretmanager.admin', // the API key secret, its versions and IAM
  'roles/cloudscheduler.admin',
  'roles/artifactregistry.admin', // the functions' image repository and its IAM
  'roles/logging.configWriter', // log-based metric
  'roles/monitoring.alertPolicyEditor',
  'roles/monitoring.notificationChannelEditor',
  'roles/cloudbuild.builds.editor', // this trigger
  'roles/logging.logWriter', // its own build logs
  'roles/iam.serviceAccountViewer', // read the accounts
] as const;

/**
 * Continuous delivery: a Cloud Build trigger on pushes to the deploy branch, running cloudbuild.yaml
 * as its own least-privilege service account, with Pulumi state in a GCS bucket and npm's cache in
 * another. Project IAM changes are limited by an IAM condition to the roles the stack grants its
 * runtime accounts, so the deployer can neither widen its own rights nor grant anything else.
 */
export class CiCd extends pulumi.ComponentResource {
  readonly serviceAccount: gcp.serviceaccount.Account;
  readonly cacheBucket: gcp.storage.Bucket;
  readonly trigger: gcp.cloudbuild.Trigger;

  constructor(name: string, args: CiCdArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${TYPE}:CiCd`, name, {}, opts);
    const { project } = args;
    this.serviceAccount = new gcp.serviceaccount.Account(
      `${name}-sa`,
      {
        project,
        accountId: `${args.prefix}-deployer`,
        displayName: 'crypto pipeline: Cloud Build deployer',
        description: 'Runs cloudbuild.yaml: tests, bundles and `pulumi up` on pushes to the deploy branch.',
      },
      childOptions(this, opts),
    );
    const member = this.serviceAccount.member;

    const grants: pulumi.Resource[] = DEPLOYER_PROJECT_ROLES.map(
      (role) =>
        new gcp.projects.IAMMember(
          `${name}-${role.replace(/^roles\//, '').replace(/\./g, '-')}`,
          { project, role, member },
          // Project IAM goes through Resource Manager: wait for the APIs like the rest.
          childOptions(this, opts),
        ),
    );
    const grantable = [...new Set(args.grantableProjectRoles)].sort();
    grants.push(
      new gcp.projects.IAMMember(
        `${name}-project-iam-admin`,
        {
          project,
          role: 'roles/resourcemanager.projectIamAdmin',
          member,
          condition: {
            title: 'only the pipeline runtime roles',
            description:
              'The deployer may add or remove only the project roles the stack grants its runtime accounts.',
            expression: `api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([${grantable.map((r) => `'${r}'`).join(', ')}])`,
          },
        },
        childOptions(this, opts),
      ),
    );
    args.runtimeServiceAccounts.forEach((sa, i) => {
      // actAs, to deploy functions / jobs / subscriptions that run as these accounts; admin of just
      // these accounts, to keep their IAM (e.g. the Pub/Sub agent's token creator) in line.
      for (const role of ['roles/iam.serviceAccountUser', 'roles/iam.serviceAccountAdmin']) {
        grants.push(
          new gcp.serviceaccount.IAMMember(
            `${name}-${role.replace(/^roles\/iam\./, '')}-${i}`,
            { serviceAccountId: sa.name, role, member },
            { parent: this },
          ),
        );
      }
    });
    // Cloud Build checks actAs on the trigger's own account whenever the trigger is updated.
    grants.push(
      new gcp.serviceaccount.IAMMember(
        `${name}-self-user`,
        { serviceAccountId: this.serviceAccount.name, role: 'roles/iam.serviceAccountUser', member },
        { parent: this },
      ),
    );
    grants.push(
      new gcp.storage.BucketIAMMember(
        `${name}-state-admin`,
        { bucket: args.stateBucket, role: 'roles/storage.objectAdmin', member },
        { parent: this },
      ),
      new gcp.secretmanager.SecretIamMember(
        `${name}-passphrase-accessor`,
        { project, secretId: args.passphraseSecret, role: 'roles/secretmanager.secretAccessor', member },
        { parent: this },
      ),
    );

    this.cacheBucket = new gcp.storage.Bucket(
      `${name}-cache`,
      {
        project,
        name: `${project}-${args.prefix}-build-cache`,
        location: args.location.toUpperCase(),
        uniformBucketLevelAccess: true,
        publicAccessPrevention: 'enforced',
        softDeletePolicy: { retentionDurationSeconds: 0 },
        // The npm cache is rebuilt by any build that misses it; old copies are only cost.
        lifecycleRules: [{ action: { type: 'Delete' }, condition: { age: 30 } }],
        forceDestroy: true,
        labels: args.labels,
      },
      childOptions(this, opts),
    );
    grants.push(
      new gcp.storage.BucketIAMMember(
        `${name}-cache-admin`,
        { bucket: this.cacheBucket.name, role: 'roles/storage.objectAdmin', member },
        { parent: this },
      ),
    );

    this.trigger = new gcp.cloudbuild.Trigger(
      `${name}-trigger`,
      {
        project,
        location: 'global',
        name: `${args.prefix}-deploy`,
        description: `Test and deploy stack ${args.stack} on every push to ${args.branch}.`,
        github: { owner: args.githubOwner, name: args.githubRepo, push: { branch: `^${args.branch}$` } },
        filename: 'cloudbuild.yaml',
        serviceAccount: this.serviceAccount.id,
        substitutions: {
          _STACK: args.stack,
          _STATE_BUCKET: args.stateBucket,
          _CACHE_BUCKET: this.cacheBucket.name,
          _PASSPHRASE_SECRET: args.passphraseSecret,
        },
      },
      childOptions(this, opts, { dependsOn: grants }),
    );
    this.registerOutputs({ trigger: this.trigger.name, serviceAccount: this.serviceAccount.email });
  }
}
