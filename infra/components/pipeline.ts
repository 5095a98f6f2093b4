import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { Plan } from '../../functions/src/config.js';
import { childOptions, TYPE } from './common.js';
import { PROPAGATION_SECONDS, propagationWait } from './propagation.js';

/** Cloud Functions gen2 runtime; the repository's Node 20 is for development only (ARCHITECTURE.md §7.9). */
export const RUNTIME = 'nodejs22';
/** Names registered with the Functions Framework by functions/src/index.ts (ARCHITECTURE.md §7.1). */
export const ENTRY_POINTS = { extract: 'extract', load: 'load' } as const;

/**
 * The project-level roles this component grants (everything else is granted on one resource). The
 * deployer's project-IAM-admin condition (infra/components/cicd.ts) allows exactly these, so a
 * role added here without being allowed there fails the infra tests, not a Cloud Build deploy.
 */
export const PIPELINE_PROJECT_ROLES = [
  'roles/bigquery.jobUser', // load runs BigQuery jobs (jobs are project resources)
  'roles/logging.logWriter', // the build account writes build logs
  'roles/storage.objectViewer', // the build account reads gcf-v2-sources-*, narrowed by a condition
] as const;
type ProjectRole = (typeof PIPELINE_PROJECT_ROLES)[number];

/**
 * The bucket Cloud Functions gen2 copies each uploaded source archive into, and from which Cloud
 * Build then reads it as the function's build account (not from our source bucket): without read
 * access there a first build fails (hashicorp/terraform-provider-google#20571). Google names it
 * after the project number and region and creates it itself, so it cannot be granted on before it
 * exists; hence a project-level grant with a condition on the bucket name.
 */
export const gcfSourcesBucket = (projectNumber: string, region: string): string =>
  `gcf-v2-sources-${projectNumber}-${region}`;

/**
 * The IAM condition that narrows a project-level storage role to that bucket and its objects
 * (resource names `projects/_/buckets/<bucket>` and `projects/_/buckets/<bucket>/objects/<object>`).
 * A prefix match: in a region whose name another region's extends (europe-west1, europe-west10)
 * it also covers that region's gcf-v2-sources bucket of the same project, which holds function
 * sources too; Google's own example grants object read on the whole project.
 */
export function gcfSourcesCondition(projectNumber: string, region: string): string {
  return `resource.name.startsWith("projects/_/buckets/${gcfSourcesBucket(projectNumber, region)}")`;
}

/** What the functions are configured with: exactly variables of CONFIG_KEYS (functions/src/config.ts). */
export interface FunctionSettings {
  plan: Plan;
  /** Every quote currency; the first is the default of a request that names none. */
  vsCurrencies: string[];
  coinLimit: number;
  perPage: number;
  cadenceMinutes: number;
  retryBudgetSeconds: number;
  requestTimeoutSeconds: number;
}

export interface PipelineArgs {
  project: string;
  region: string;
  prefix: string;
  /** The bundled function source and its content hash (infra/bundle.ts). */
  source: { archive: pulumi.asset.Archive; hash: string };
  lakeBucket: gcp.storage.Bucket;
  topic: gcp.pubsub.Topic;
  dataset: gcp.bigquery.Dataset;
  bqLocation: string;
  /** Absent for the keyless plan. */
  apiKey:
    | { secret: gcp.secretmanager.Secret; secretId: pulumi.Input<string>; version: pulumi.Input<string> }
    | undefined;
  settings: FunctionSettings;
  extractTimeoutSeconds: number;
  loadTimeoutSeconds: number;
  labels: Record<string, string>;
}

/**
 * Environment of each function. Both get the deployment coordinates; only extract gets the
 * CoinGecko settings and key, because only extract calls CoinGecko (and only extract may read the
 * secret). Without COINGECKO_PLAN the load's parsed config says keyless, which it never uses.
 */
export function functionEnvironments(args: {
  project: string;
  bucket: pulumi.Input<string>;
  topic: pulumi.Input<string>;
  dataset: pulumi.Input<string>;
  bqLocation: string;
  settings: FunctionSettings;
}): { extract: Record<string, pulumi.Input<string>>; load: Record<string, pulumi.Input<string>> } {
  const s = args.settings;
  const common = {
    PIPELINE_ENGINE: 'gcp',
    GCP_PROJECT: args.project,
    RAW_BUCKET: args.bucket,
    EVENTS_TOPIC: args.topic,
    BQ_DATASET: args.dataset,
    BQ_LOCATION: args.bqLocation,
    VS_CURRENCY: s.vsCurrencies[0]!,
    // Which currencies a Scheduler job may ask extract for (each job's body names one).
    VS_CURRENCIES: s.vsCurrencies.join(','),
    CADENCE_MINUTES: String(s.cadenceMinutes),
    RETRY_BUDGET_SECONDS: String(s.retryBudgetSeconds),
  };
  return {
    extract: {
      ...common,
      COINGECKO_PLAN: s.plan,
      COIN_LIMIT: String(s.coinLimit),
      PER_PAGE: String(s.perPage),
      REQUEST_TIMEOUT_SECONDS: String(s.requestTimeoutSeconds),
    },
    load: common,
  };
}

/**
 * The two functions (Cloud Functions gen2, built from the bundle) and everything they run as:
 *
 * - one service account each, never the default compute account, holding only what its stage does:
 *   extract creates objects in the lake (create-only: objectCreator has no delete, so an object
 *   cannot be overwritten), reads them (to re-publish a run that was already written), publishes to
 *   the topic and reads the one secret; load reads the lake, edits the dataset's tables and runs
 *   BigQuery jobs;
 * - a build service account (logs, the source object, its own image repository), since builds
 *   would otherwise run as the default compute account too;
 * - ingress internal only: Cloud Scheduler and Pub/Sub push in the same project count as internal
 *   for Cloud Run ingress, and nothing else needs to reach the functions. Who may invoke them is
 *   granted by their callers (Scheduler, Delivery), on each function's own service.
 */
export class Pipeline extends pulumi.ComponentResource {
  readonly extractServiceAccount: gcp.serviceaccount.Account;
  readonly loadServiceAccount: gcp.serviceaccount.Account;
  readonly buildServiceAccount: gcp.serviceaccount.Account;
  readonly sourceBucket: gcp.storage.Bucket;
  readonly sourceObject: gcp.storage.BucketObject;
  readonly extract: gcp.cloudfunctionsv2.Function;
  readonly load: gcp.cloudfunctionsv2.Function;
  /** URLs (Cloud Run service URIs): the endpoints, and the OIDC audiences. */
  readonly extractUrl: pulumi.Output<string>;
  readonly loadUrl: pulumi.Output<string>;
  /** Full resource names of the Cloud Run services behind the functions. */
  readonly extractService: pulumi.Output<string>;
  readonly loadService: pulumi.Output<string>;

  constructor(name: string, args: PipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${TYPE}:Pipeline`, name, {}, opts);
    const { project, region, prefix } = args;
    const child = (extra: pulumi.CustomResourceOptions = {}) => childOptions(this, opts, extra);
    // Project IAM goes through Resource Manager: it waits for the APIs like the rest.
    const projectGrant = (
      suffix: string,
      role: ProjectRole,
      member: pulumi.Input<string>,
      condition?: gcp.types.input.projects.IAMMemberCondition,
    ) =>
      new gcp.projects.IAMMember(
        `${name}-${suffix}`,
        { project, role, member, ...(condition ? { condition } : {}) },
        child(),
      );
    const account = (suffix: string, displayName: string, description: string) =>
      new gcp.serviceaccount.Account(
        `${name}-${suffix}-sa`,
        { project, accountId: `${prefix}-${suffix}`, displayName, description },
        child(),
      );

    this.extractServiceAccount = account('extract', 'crypto pipeline: extract', 'Runs the extract function.');
    this.loadServiceAccount = account('load', 'crypto pipeline: load', 'Runs the load function.');
    this.buildServiceAccount = account(
      'fn-build',
      'crypto pipeline: function builds',
      'Builds the function images.',
    );
    const extractMember = this.extractServiceAccount.member;
    const loadMember = this.loadServiceAccount.member;
    const buildMember = this.buildServiceAccount.member;

    // --- extract: lake create + read, topic publish, the one secret
    const extractGrants: pulumi.Resource[] = [
      new gcp.storage.BucketIAMMember(
        `${name}-extract-lake-creator`,
        { bucket: args.lakeBucket.name, role: 'roles/storage.objectCreator', member: extractMember },
        { parent: this },
      ),
      new gcp.storage.BucketIAMMember(
        `${name}-extract-lake-viewer`,
        { bucket: args.lakeBucket.name, role: 'roles/storage.objectViewer', member: extractMember },
        { parent: this },
      ),
      new gcp.pubsub.TopicIAMMember(
        `${name}-extract-publisher`,
        { project, topic: args.topic.name, role: 'roles/pubsub.publisher', member: extractMember },
        { parent: this },
      ),
    ];
    if (args.apiKey) {
      extractGrants.push(
        new gcp.secretmanager.SecretIamMember(
          `${name}-extract-secret-accessor`,
          {
            project,
            secretId: args.apiKey.secret.secretId,
            role: 'roles/secretmanager.secretAccessor',
            member: extractMember,
          },
          { parent: this },
        ),
      );
    }

    // --- load: lake read, dataset edit, BigQuery jobs
    const loadGrants: pulumi.Resource[] = [
      new gcp.storage.BucketIAMMember(
        `${name}-load-lake-viewer`,
        { bucket: args.lakeBucket.name, role: 'roles/storage.objectViewer', member: loadMember },
        { parent: this },
      ),
      new gcp.bigquery.DatasetIamMember(
        `${name}-load-data-editor`,
        { project, datasetId: args.dataset.datasetId, role: 'roles/bigquery.dataEditor', member: loadMember },
        { parent: this },
      ),
      projectGrant('load-job-user', 'roles/bigquery.jobUser', loadMember),
    ];

    // --- source: a private bucket, one object per content hash
    this.sourceBucket = new gcp.storage.Bucket(
      `${name}-source`,
      {
        project,
        name: `${project}-${prefix}-fn-source`,
        location: region.toUpperCase(),
        uniformBucketLevelAccess: true,
        publicAccessPrevention: 'enforced',
        // Source archives are rebuilt from git at will and Pulumi deletes superseded ones: keeping
        // deleted ones for a week would only be billed.
        softDeletePolicy: { retentionDurationSeconds: 0 },
        forceDestroy: true,
        labels: args.labels,
      },
      child(),
    );
    this.sourceObject = new gcp.storage.BucketObject(
      `${name}-source-archive`,
      {
        bucket: this.sourceBucket.name,
        // The content hash in the name: changed code is a new object, which redeploys both functions.
        name: `functions-${args.source.hash.slice(0, 20)}.zip`,
        source: args.source.archive,
        contentType: 'application/zip',
      },
      { parent: this },
    );

    // --- builds: own identity, own image repository with a cleanup policy
    const repository = new gcp.artifactregistry.Repository(
      `${name}-images`,
      {
        project,
        location: region,
        repositoryId: `${prefix}-functions`,
        format: 'DOCKER',
        description: 'Images of the crypto pipeline functions.',
        cleanupPolicies: [
          { id: 'keep-recent', action: 'KEEP', mostRecentVersions: { keepCount: 5 } },
          { id: 'delete-old', action: 'DELETE', condition: { tagState: 'ANY', olderThan: '2592000s' } },
        ],
        labels: args.labels,
      },
      child(),
    );
    const projectNumber = gcp.organizations.getProjectOutput({ projectId: project }, { parent: this }).number;
    const buildGrants: pulumi.Resource[] = [
      projectGrant('build-log-writer', 'roles/logging.logWriter', buildMember),
      projectGrant('build-gcf-sources-viewer', 'roles/storage.objectViewer', buildMember, {
        title: 'gcf-v2-sources bucket only',
        description: `Read the function sources Cloud Functions copies into ${gcfSourcesBucket('<project number>', region)}.`,
        expression: projectNumber.apply((n) => gcfSourcesCondition(n, region)),
      }),
      new gcp.storage.BucketIAMMember(
        `${name}-build-source-viewer`,
        { bucket: this.sourceBucket.name, role: 'roles/storage.objectViewer', member: buildMember },
        { parent: this },
      ),
      new gcp.artifactregistry.RepositoryIamMember(
        `${name}-build-image-writer`,
        {
          project,
          location: region,
          repository: repository.name,
          role: 'roles/artifactregistry.writer',
          member: buildMember,
        },
        { parent: this },
      ),
    ];

    const env = functionEnvironments({
      project,
      bucket: args.lakeBucket.name,
      topic: args.topic.name,
      dataset: args.dataset.datasetId,
      bqLocation: args.bqLocation,
      settings: args.settings,
    });
    // A build starts as soon as the function is created; the grants it and the runtime use must have
    // propagated by then, or the first build fails on reading its source or pushing its image.
    const allGrants = [...buildGrants, ...extractGrants, ...loadGrants];
    const grantsPropagated = propagationWait(
      `${name}-iam-propagation`,
      {
        after: allGrants,
        seconds: PROPAGATION_SECONDS.iam,
        // A grant added by a later version is new, so the build after it waits again.
        triggers: { grants: pulumi.all(allGrants.map((g) => g.urn)).apply((urns) => urns.sort().join(',')) },
      },
      this,
    );
    const fn = (
      stage: 'extract' | 'load',
      sa: gcp.serviceaccount.Account,
      timeoutSeconds: number,
      memory: string,
      maxInstances: number,
    ) =>
      new gcp.cloudfunctionsv2.Function(
        `${name}-${stage}`,
        {
          project,
          location: region,
          name: `${prefix}-${stage}`,
          description: `crypto pipeline ${stage} (source ${args.source.hash.slice(0, 12)})`,
          buildConfig: {
            runtime: RUNTIME,
            entryPoint: ENTRY_POINTS[stage],
            source: { storageSource: { bucket: this.sourceBucket.name, object: this.sourceObject.name } },
            serviceAccount: this.buildServiceAccount.id,
            dockerRepository: repository.id,
          },
          serviceConfig: {
            serviceAccountEmail: sa.email,
            ingressSettings: 'ALLOW_INTERNAL_ONLY',
            timeoutSeconds,
            availableMemory: memory,
            minInstanceCount: 0,
            maxInstanceCount: maxInstances,
            // One run at a time per instance: extract paces CoinGecko calls per process.
            maxInstanceRequestConcurrency: 1,
            allTrafficOnLatestRevision: true,
            environmentVariables: env[stage],
            secretEnvironmentVariables:
              stage === 'extract' && args.apiKey
                ? [
                    {
                      key: 'COINGECKO_API_KEY',
                      projectId: project,
                      secret: args.apiKey.secretId,
                      version: args.apiKey.version,
                    },
                  ]
                : [],
          },
          labels: args.labels,
        },
        child({ dependsOn: [grantsPropagated] }),
      );

    // extract: a single instance, so overlapping runs cannot double the CoinGecko call rate.
    this.extract = fn('extract', this.extractServiceAccount, args.extractTimeoutSeconds, '512Mi', 1);
    this.load = fn('load', this.loadServiceAccount, args.loadTimeoutSeconds, '1Gi', 3);

    const uri = (f: gcp.cloudfunctionsv2.Function) =>
      f.serviceConfig.apply((s) => {
        if (!s?.uri) throw new Error('function has no service URI');
        return s.uri;
      });
    const service = (f: gcp.cloudfunctionsv2.Function) =>
      f.serviceConfig.apply((s) => {
        if (!s?.service) throw new Error('function has no Cloud Run service');
        return s.service;
      });
    this.extractUrl = uri(this.extract);
    this.loadUrl = uri(this.load);
    this.extractService = service(this.extract);
    this.loadService = service(this.load);
    this.registerOutputs({
      extractUrl: this.extractUrl,
      loadUrl: this.loadUrl,
      sourceObject: this.sourceObject.name,
    });
  }
}
