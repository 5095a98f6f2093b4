import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { bigQueryTableSpec } from '../functions/src/schema/bigquery-schema.js';
import { TABLES } from '../functions/src/schema/tables.js';
import { bundleArchive, bundleFunctions, hashBundleDir, REPO_ROOT } from './bundle.js';
import { Apis } from './components/apis.js';
import { BackfillRequests } from './components/backfill.js';
import { CiCd } from './components/cicd.js';
import { labels as stackLabels } from './components/common.js';
import { Delivery } from './components/delivery.js';
import { EventBus } from './components/events.js';
import { Lake } from './components/lake.js';
import { Monitoring } from './components/monitoring.js';
import { Pipeline, PIPELINE_PROJECT_ROLES } from './components/pipeline.js';
import { Scheduler } from './components/scheduler.js';
import { ApiKeySecret } from './components/secrets.js';
import { Warehouse } from './components/warehouse.js';
import { loadConfig } from './config.js';
import { planBudget } from './planner.js';
import { loadViews } from './sql-views.js';
import { lookerStudioUrl } from '../dashboards/looker-studio-url.js';

/**
 * The crypto-market-pipeline stack: composes the components and exports what an operator needs.
 * Everything is decided in infra/config.ts (configuration) and infra/components/ (resources).
 */
const cfg = loadConfig();

// Over budget fails here, at `pulumi preview`, before anything is created.
const budget = planBudget({
  plan: cfg.coingecko.plan,
  coinLimit: cfg.coinLimit,
  perPage: cfg.perPage,
  schedule: cfg.schedule,
  cadenceMinutes: cfg.cadenceMinutes,
  currencies: cfg.vsCurrencies.length,
});
pulumi.log.info(budget.summary);
if (budget.warning) pulumi.log.warn(budget.warning);

const bundle = cfg.functionsBundleDir
  ? hashBundleDir(cfg.functionsBundleDir)
  : await bundleFunctions({ outDir: join(REPO_ROOT, 'dist', 'functions') });

const { project, region, prefix } = cfg;
const labels = stackLabels(cfg.stack);
const apis = new Apis('apis', { project });
// Every resource waits until the enabled APIs have propagated (infra/components/propagation.ts).
const afterApis = { dependsOn: [apis.ready] };

const lake = new Lake(
  'lake',
  {
    project,
    location: region,
    bucketName: `${project}-${prefix}-lake`,
    nearlineAfterDays: cfg.lake.nearlineAfterDays,
    coldlineAfterDays: cfg.lake.coldlineAfterDays,
    softDeleteRetentionDays: cfg.lake.softDeleteRetentionDays,
    protectData: cfg.protectData,
    labels,
  },
  afterApis,
);

const warehouse = new Warehouse(
  'warehouse',
  {
    project,
    datasetId: cfg.dataset,
    location: cfg.bqLocation,
    tables: TABLES.map(bigQueryTableSpec),
    views: loadViews(join(REPO_ROOT, 'sql'), project, cfg.dataset),
    protectData: cfg.protectData,
    labels,
  },
  afterApis,
);

const apiKey = cfg.coingecko.apiKey
  ? new ApiKeySecret(
      'coingecko-key',
      { project, secretId: `${prefix}-coingecko-api-key`, value: cfg.coingecko.apiKey, labels },
      afterApis,
    )
  : undefined;

const events = new EventBus(
  'events',
  {
    project,
    topicName: `${prefix}-events`,
    deadLetterTopicName: `${prefix}-events-dead-letter`,
    deadLetterSubscriptionName: `${prefix}-events-dead-letter`,
    labels,
  },
  afterApis,
);

const pipeline = new Pipeline(
  'pipeline',
  {
    project,
    region,
    prefix,
    source: { archive: bundleArchive(bundle), hash: bundle.hash },
    lakeBucket: lake.bucket,
    topic: events.topic,
    dataset: warehouse.dataset,
    bqLocation: cfg.bqLocation,
    apiKey: apiKey && { secret: apiKey.secret, secretId: apiKey.secretId, version: apiKey.versionNumber },
    settings: {
      plan: cfg.coingecko.plan,
      vsCurrencies: cfg.vsCurrencies,
      coinLimit: cfg.coinLimit,
      perPage: cfg.perPage,
      cadenceMinutes: cfg.cadenceMinutes,
      retryBudgetSeconds: cfg.retryBudgetSeconds,
      requestTimeoutSeconds: cfg.requestTimeoutSeconds,
    },
    extractTimeoutSeconds: cfg.extractTimeoutSeconds,
    loadTimeoutSeconds: cfg.loadTimeoutSeconds,
    labels,
  },
  afterApis,
);

const delivery = new Delivery(
  'delivery',
  {
    project,
    region,
    prefix,
    topic: events.topic,
    deadLetterTopic: events.deadLetterTopic,
    subscriptionName: `${prefix}-events-to-load`,
    loadService: pipeline.loadService,
    loadUrl: pipeline.loadUrl,
    loadTimeoutSeconds: cfg.loadTimeoutSeconds,
    maxDeliveryAttempts: cfg.maxDeliveryAttempts,
    labels,
  },
  afterApis,
);

// Backfill in the cloud: chunk requests pushed to extract, at the plan's rate (README: Backfill history).
const backfill = new BackfillRequests(
  'backfill',
  {
    project,
    region,
    prefix,
    extractService: pipeline.extractService,
    extractUrl: pipeline.extractUrl,
    extractTimeoutSeconds: cfg.extractTimeoutSeconds,
    maxDeliveryAttempts: cfg.maxDeliveryAttempts,
    labels,
  },
  afterApis,
);

const scheduler = new Scheduler(
  'scheduler',
  {
    project,
    region,
    prefix,
    jobName: `${prefix}-extract`,
    schedule: cfg.schedule,
    vsCurrencies: cfg.vsCurrencies,
    extractService: pipeline.extractService,
    extractUrl: pipeline.extractUrl,
    extractTimeoutSeconds: cfg.extractTimeoutSeconds,
  },
  afterApis,
);

new Monitoring(
  'monitoring',
  {
    project,
    prefix,
    functionNames: [pipeline.extract.name, pipeline.load.name],
    eventsSubscription: delivery.subscription.name,
    deadLetterSubscription: events.deadLetterSubscription.name,
    freshnessAlertMinutes: cfg.freshnessAlertMinutes,
    alertEmail: cfg.alertEmail,
  },
  afterApis,
);

const cicd = cfg.cicd
  ? new CiCd(
      'cicd',
      {
        project,
        prefix,
        stack: cfg.stack,
        ...cfg.cicd,
        runtimeServiceAccounts: [
          pipeline.extractServiceAccount,
          pipeline.loadServiceAccount,
          pipeline.buildServiceAccount,
          scheduler.serviceAccount,
          delivery.serviceAccount,
          backfill.serviceAccount,
        ],
        grantableProjectRoles: [...PIPELINE_PROJECT_ROLES],
        location: region,
        labels,
      },
      afterApis,
    )
  : undefined;

export const extractUrl = pipeline.extractUrl;
export const loadUrl = pipeline.loadUrl;
export const rawBucket = lake.bucketName;
export const bigqueryDataset = warehouse.datasetId;
/** Opens the dashboard as a new Looker Studio report on this stack's views (README: Dashboards). */
export const lookerStudioReportUrl = warehouse.datasetId.apply((dataset) =>
  lookerStudioUrl({ project, dataset }),
);
export const eventsTopic = events.topic.name;
export const deadLetterSubscription = events.deadLetterSubscription.name;
/** Publish one backfill chunk request per message here (`crypto-pipeline backfill --print-requests`). */
export const backfillRequestsTopic = backfill.topic.name;
export const schedulerJob = scheduler.jobName;
/** One job per quote currency, in vsCurrencies order (the first is `schedulerJob`). */
export const schedulerJobs = scheduler.jobNames;
// Coordinates for tools that check a deployment (ops/cloud-check reads these outputs).
export const gcpProject = project;
export { region };
export const bigqueryLocation = cfg.bqLocation;
export const extractFunction = pipeline.extract.name;
export const loadFunction = pipeline.load.name;
export const cadenceMinutes = cfg.cadenceMinutes;
/** Starts a run now, outside the schedule (the functions accept only internal traffic). */
export const runNowCommand = pulumi.interpolate`gcloud scheduler jobs run ${scheduler.jobName} --location ${region} --project ${project}`;
export const functionSourceHash = bundle.hash;
export const coingeckoBudget = budget.summary;
export const deployTrigger = cicd?.trigger.name;
