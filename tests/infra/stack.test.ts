import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFIG_KEYS, parseConfig } from '../../functions/src/config.js';
import { bigQuerySchema, VIEW_FILES } from '../../functions/src/schema/bigquery-schema.js';
import { viewsUsed } from '../../dashboards/definition.js';
import { TABLES } from '../../functions/src/schema/tables.js';
import { REQUIRED_APIS } from '../../infra/components/apis.js';
import { DEPLOYER_PROJECT_ROLES } from '../../infra/components/cicd.js';
import { parseStackOutputs } from '../../ops/cloud-check/stack-outputs.js';
import {
  GCP_PROJECT,
  ofType,
  one,
  removeFixtures,
  runProgram,
  stackConfig,
  type ProgramRun,
  type Recorded,
} from './support/harness.js';
import { FUNCTION_GRANTS, grants, securityViolations } from './support/posture.js';

/**
 * The whole Pulumi program (infra/index.ts) under mocks, with a demo-plan stack that has CI/CD:
 * the security posture of ARCHITECTURE.md §5 item by item, then the wiring between resources.
 */
let run: ProgramRun;
let r: Recorded[];
beforeAll(async () => {
  run = await runProgram(stackConfig());
  r = run.resources;
});
afterAll(removeFixtures);

type Json = Record<string, unknown>;
const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v == null ? undefined : (v as Json)[k]), o);
const fn = (stage: 'extract' | 'load') => one(r, 'Function', `-${stage}`);
const sa = (stage: string) => `serviceAccount:crypto-dev-${stage}@${GCP_PROJECT}.iam.gserviceaccount.com`;
const grantsOf = (member: string) =>
  grants(r)
    .filter((g) => g.member === member)
    .map((g) => `${g.kind} ${g.role} on ${g.on}`)
    .sort();
const env = (stage: 'extract' | 'load') =>
  get(fn(stage).inputs, 'serviceConfig.environmentVariables') as Record<string, string>;
const lakeName = `${GCP_PROJECT}-crypto-dev-lake`;

describe('security posture (ARCHITECTURE.md §5)', () => {
  it('passes the posture check as a whole', () => {
    expect(securityViolations(r)).toEqual([]);
  });

  it('runs each function as its own service account, never a default one, and builds with a dedicated one', () => {
    const emails = ['extract', 'load'].map((s) =>
      get(fn(s as 'extract').inputs, 'serviceConfig.serviceAccountEmail'),
    );
    expect(emails).toEqual([
      `crypto-dev-extract@${GCP_PROJECT}.iam.gserviceaccount.com`,
      `crypto-dev-load@${GCP_PROJECT}.iam.gserviceaccount.com`,
    ]);
    for (const f of ofType(r, 'Function')) {
      expect(get(f.inputs, 'serviceConfig.serviceAccountEmail')).not.toMatch(/compute@developer|appspot/);
      expect(get(f.inputs, 'buildConfig.serviceAccount')).toBe(
        `projects/${GCP_PROJECT}/serviceAccounts/crypto-dev-fn-build@${GCP_PROJECT}.iam.gserviceaccount.com`,
      );
    }
    const accountIds = ofType(r, 'Account').map((a) => a.inputs.accountId);
    expect(new Set(accountIds).size).toBe(accountIds.length);
  });

  it('grants nothing to allUsers or allAuthenticatedUsers', () => {
    expect(JSON.stringify(r.map((x) => x.inputs))).not.toMatch(/allUsers|allAuthenticatedUsers/);
  });

  it('accepts internal traffic only', () => {
    expect(ofType(r, 'Function').map((f) => get(f.inputs, 'serviceConfig.ingressSettings'))).toEqual([
      'ALLOW_INTERNAL_ONLY',
      'ALLOW_INTERNAL_ONLY',
    ]);
  });

  it('grants run.invoker on each function service only to its caller', () => {
    const invokers = grants(r).filter((g) => g.role === 'roles/run.invoker');
    expect(invokers.map((g) => [g.kind, g.on, g.member]).sort()).toEqual(
      [
        [
          'ServiceIamMember',
          `projects/${GCP_PROJECT}/locations/us-central1/services/crypto-dev-extract`,
          sa('scheduler'),
        ],
        [
          'ServiceIamMember',
          `projects/${GCP_PROJECT}/locations/us-central1/services/crypto-dev-extract`,
          sa('backfill-push'),
        ],
        [
          'ServiceIamMember',
          `projects/${GCP_PROJECT}/locations/us-central1/services/crypto-dev-load`,
          sa('push'),
        ],
      ].sort(),
    );
    expect(get(fn('extract').state, 'serviceConfig.service')).toBe(
      invokers.find((g) => g.member === sa('scheduler'))!.on,
    );
  });

  it('lets extract create and read lake objects, publish to the topic and read the one secret, nothing else', () => {
    expect(grantsOf(sa('extract'))).toEqual(
      [
        `BucketIAMMember roles/storage.objectCreator on ${lakeName}`,
        `BucketIAMMember roles/storage.objectViewer on ${lakeName}`,
        'SecretIamMember roles/secretmanager.secretAccessor on crypto-dev-coingecko-api-key',
        'TopicIAMMember roles/pubsub.publisher on crypto-dev-events',
      ].sort(),
    );
    expect(FUNCTION_GRANTS.extract).toHaveLength(4);
  });

  it('lets load read the lake, edit the dataset and run BigQuery jobs, nothing else', () => {
    expect(grantsOf(sa('load'))).toEqual(
      [
        `BucketIAMMember roles/storage.objectViewer on ${lakeName}`,
        'DatasetIamMember roles/bigquery.dataEditor on crypto_market',
        `ProjectIAMMember roles/bigquery.jobUser on project:${GCP_PROJECT}`,
      ].sort(),
    );
  });

  it('keeps every bucket private with uniform access; the lake has lifecycle rules and soft delete', () => {
    const buckets = ofType(r, 'Bucket');
    expect(buckets.length).toBeGreaterThanOrEqual(2);
    for (const b of buckets) {
      expect(b.inputs).toMatchObject({ uniformBucketLevelAccess: true, publicAccessPrevention: 'enforced' });
    }
    const lake = one(r, 'Bucket', 'lake-raw');
    expect(lake.inputs.name).toBe(lakeName);
    expect(lake.inputs.lifecycleRules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: { type: 'SetStorageClass', storageClass: 'NEARLINE' } }),
        expect.objectContaining({ action: { type: 'SetStorageClass', storageClass: 'COLDLINE' } }),
      ]),
    );
    expect(lake.inputs.softDeletePolicy).toEqual({ retentionDurationSeconds: 7 * 86_400 });
    expect(lake.inputs.versioning).toEqual({ enabled: false });
  });

  it('keeps the API key in Secret Manager and pins the function to its version', () => {
    const version = one(r, 'SecretVersion', 'coingecko-key-version');
    expect(JSON.stringify(version.inputs.secretData)).toContain('CG-test-key');
    // Marked secret: Pulumi encrypts it in state.
    expect(JSON.stringify(version.inputs.secretData)).toContain('4dabf18193072939515e22adb298388d');
    expect(get(fn('extract').inputs, 'serviceConfig.secretEnvironmentVariables')).toEqual([
      {
        key: 'COINGECKO_API_KEY',
        projectId: GCP_PROJECT,
        secret: 'crypto-dev-coingecko-api-key',
        version: '1',
      },
    ]);
    expect(get(fn('load').inputs, 'serviceConfig.secretEnvironmentVariables')).toEqual([]);
    expect(JSON.stringify(fn('extract').inputs)).not.toContain('CG-test-key');
  });

  it('deploys through Cloud Build as its own account without owner or editor', () => {
    const trigger = one(r, 'Trigger', 'cicd-trigger');
    const deployer = `serviceAccount:crypto-dev-deployer@${GCP_PROJECT}.iam.gserviceaccount.com`;
    expect(trigger.inputs.serviceAccount).toBe(
      `projects/${GCP_PROJECT}/serviceAccounts/${deployer.replace('serviceAccount:', '')}`,
    );
    const held = grants(r).filter((g) => g.member === deployer);
    const projectRoles = held.filter((g) => g.kind === 'ProjectIAMMember').map((g) => g.role);
    expect(projectRoles).not.toEqual(expect.arrayContaining(['roles/owner']));
    expect(projectRoles).not.toContain('roles/editor');
    expect(projectRoles.sort()).toEqual(
      [...DEPLOYER_PROJECT_ROLES, 'roles/resourcemanager.projectIamAdmin'].sort(),
    );
    const iamAdmin = ofType(r, 'IAMMember').find(
      (g) => g.inputs.role === 'roles/resourcemanager.projectIamAdmin',
    )!;
    expect(get(iamAdmin.inputs, 'condition.expression')).toBe(
      "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly(['roles/bigquery.jobUser', 'roles/logging.logWriter', 'roles/storage.objectViewer'])",
    );
    // actAs only on the accounts the deployment runs things as, never project-wide.
    const actAs = held.filter((g) => g.role === 'roles/iam.serviceAccountUser');
    expect(actAs.every((g) => g.kind === 'ServiceAccountIAMMember')).toBe(true);
    expect(actAs.map((g) => g.on.replace(/.*\/crypto-dev-|@.*/g, '')).sort()).toEqual([
      'backfill-push',
      'deployer', // itself: Cloud Build checks actAs on a trigger's account when the trigger changes
      'extract',
      'fn-build',
      'load',
      'push',
      'scheduler',
    ]);
    // It administers the runtime accounts' IAM, never its own.
    const admin = held.filter((g) => g.role === 'roles/iam.serviceAccountAdmin');
    expect(admin).toHaveLength(6);
    expect(admin.some((g) => g.on.includes('crypto-dev-deployer'))).toBe(false);
  });

  it('gives the dead-letter topic a subscription that never expires', () => {
    const push = one(r, 'Subscription', 'delivery-push');
    const dlqTopic = get(push.inputs, 'deadLetterPolicy.deadLetterTopic');
    const dlqSubs = ofType(r, 'Subscription').filter((s) => s.inputs.topic === dlqTopic);
    expect(dlqSubs).toHaveLength(1);
    expect(dlqSubs[0]!.inputs.expirationPolicy).toEqual({ ttl: '' });
  });
});

describe('wiring', () => {
  it('deploys both functions from the hashed bundle with the registered entry points', () => {
    const object = one(r, 'BucketObject', 'source-archive');
    expect(object.inputs.name).toBe(`functions-${String(run.outputs.functionSourceHash).slice(0, 20)}.zip`);
    for (const stage of ['extract', 'load'] as const) {
      expect(get(fn(stage).inputs, 'buildConfig')).toMatchObject({
        runtime: 'nodejs22',
        entryPoint: stage,
        source: { storageSource: { bucket: object.inputs.bucket, object: object.inputs.name } },
      });
    }
    expect(ofType(r, 'Function').map((f) => f.inputs.eventTrigger)).toEqual([undefined, undefined]);
  });

  it('sets only variables the functions read, all they require, pointing at the stack resources', () => {
    for (const stage of ['extract', 'load'] as const) {
      const vars = env(stage);
      const secretVars = (
        get(fn(stage).inputs, 'serviceConfig.secretEnvironmentVariables') as { key: string }[]
      ).map((s) => s.key);
      for (const name of [...Object.keys(vars), ...secretVars]) expect(CONFIG_KEYS).toContain(name);
      expect(vars).toMatchObject({
        PIPELINE_ENGINE: 'gcp',
        GCP_PROJECT,
        RAW_BUCKET: lakeName,
        EVENTS_TOPIC: 'crypto-dev-events',
        BQ_DATASET: 'crypto_market',
        BQ_LOCATION: 'US',
      });
      // The functions' own parser accepts what the platform will hand them.
      const parsed = parseConfig({
        ...vars,
        ...Object.fromEntries(secretVars.map((k) => [k, 'secret-value'])),
      });
      expect(parsed.gcp).toEqual({
        project: GCP_PROJECT,
        bucket: lakeName,
        topic: 'crypto-dev-events',
        dataset: 'crypto_market',
        location: 'US',
        // Google's endpoint, with the function's credentials: no emulator or endpoint override deployed.
        pubsub: { baseUrl: 'https://pubsub.googleapis.com', authenticated: true },
        storage: { baseUrl: 'https://storage.googleapis.com/storage/v1', authenticated: true },
      });
      expect(Number(vars.RETRY_BUDGET_SECONDS)).toBeLessThan(
        get(fn(stage).inputs, 'serviceConfig.timeoutSeconds') as number,
      );
    }
    expect(parseConfig({ ...env('extract'), COINGECKO_API_KEY: 'k' }).coingecko).toMatchObject({
      plan: 'demo',
      apiKey: 'k',
    });
    expect(Object.keys(env('load'))).not.toContain('COINGECKO_PLAN');
  });

  it('calls extract from Scheduler with an OIDC token for the extract URL, within the attempt deadline', () => {
    const job = one(r, 'Job', 'scheduler-job');
    const url = run.outputs.extractUrl;
    expect(url).toBe(get(fn('extract').state, 'serviceConfig.uri'));
    expect(job.inputs).toMatchObject({
      schedule: '*/15 * * * *',
      timeZone: 'Etc/UTC',
      httpTarget: {
        uri: url,
        httpMethod: 'POST',
        oidcToken: { audience: url, serviceAccountEmail: sa('scheduler').slice(15) },
      },
    });
    const deadline = Number(String(job.inputs.attemptDeadline).replace(/s$/, ''));
    expect(deadline).toBeGreaterThanOrEqual(
      get(fn('extract').inputs, 'serviceConfig.timeoutSeconds') as number,
    );
    expect(deadline).toBeLessThanOrEqual(1800);
    expect(get(job.inputs, 'retryConfig.retryCount')).toBeGreaterThan(0);
  });

  it('pushes events to load with an OIDC token for the load URL, backoff and a dead-letter policy', () => {
    const push = one(r, 'Subscription', 'delivery-push');
    const url = run.outputs.loadUrl as string;
    expect(url).toBe(get(fn('load').state, 'serviceConfig.uri'));
    expect(push.inputs).toMatchObject({
      topic: `projects/${GCP_PROJECT}/topics/crypto-dev-events`,
      pushConfig: {
        pushEndpoint: `${url}/projects/${GCP_PROJECT}/topics/crypto-dev-events`,
        oidcToken: { audience: url, serviceAccountEmail: sa('push').slice(15) },
      },
      deadLetterPolicy: {
        deadLetterTopic: `projects/${GCP_PROJECT}/topics/crypto-dev-events-dead-letter`,
        maxDeliveryAttempts: 5,
      },
      retryPolicy: { minimumBackoff: '10s', maximumBackoff: '600s' },
    });
    const ack = push.inputs.ackDeadlineSeconds as number;
    expect(ack).toBeGreaterThanOrEqual(get(fn('load').inputs, 'serviceConfig.timeoutSeconds') as number);
    expect(ack).toBeLessThanOrEqual(600);
  });

  it('lets the Pub/Sub service agent dead-letter: publish on the DLQ topic, subscribe on the push subscription', () => {
    const agent = 'serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com';
    expect(grantsOf(agent)).toEqual(
      [
        'SubscriptionIAMMember roles/pubsub.subscriber on crypto-dev-events-to-load',
        'TopicIAMMember roles/pubsub.publisher on crypto-dev-events-dead-letter',
        `ServiceAccountIAMMember roles/iam.serviceAccountTokenCreator on projects/${GCP_PROJECT}/serviceAccounts/crypto-dev-push@${GCP_PROJECT}.iam.gserviceaccount.com`,
        // The same for the backfill requests' push to extract.
        'SubscriptionIAMMember roles/pubsub.subscriber on crypto-dev-backfill-requests-to-extract',
        'TopicIAMMember roles/pubsub.publisher on crypto-dev-backfill-requests-dead-letter',
        `ServiceAccountIAMMember roles/iam.serviceAccountTokenCreator on projects/${GCP_PROJECT}/serviceAccounts/crypto-dev-backfill-push@${GCP_PROJECT}.iam.gserviceaccount.com`,
      ].sort(),
    );
  });

  it('creates every table of the schema source of truth, with partitioning, clustering and partition filter', () => {
    const tables = ofType(r, 'Table').filter((t) => t.inputs.view === undefined);
    expect(tables.map((t) => t.inputs.tableId).sort()).toEqual(TABLES.map((t) => t.name).sort());
    for (const def of TABLES) {
      const t = tables.find((x) => x.inputs.tableId === def.name)!;
      expect(JSON.parse(t.inputs.schema as string)).toEqual(bigQuerySchema(def));
      expect(t.inputs.datasetId).toBe('crypto_market');
    }
    expect(tables.find((t) => t.inputs.tableId === 'fact_market_snapshot')!.inputs).toMatchObject({
      timePartitioning: { type: 'DAY', field: 'snapshot_date' },
      clusterings: ['asset_key'],
      requirePartitionFilter: true,
    });
  });

  it('creates every view of sql/views with a project-qualified query', () => {
    const views = ofType(r, 'Table').filter((t) => t.inputs.view !== undefined);
    expect(views.map((v) => v.inputs.tableId)).toEqual(
      VIEW_FILES.map((f) => f.replace(/^views\/|\.sql$/g, '')),
    );
    for (const v of views) {
      const query = get(v.inputs, 'view.query') as string;
      expect(query).not.toContain('{{');
      expect(query).toContain(`\`${GCP_PROJECT}\`.\`crypto_market\`.`);
      expect(get(v.inputs, 'view.useLegacySql')).toBe(false);
    }
  });

  it('enables the APIs the resources need', () => {
    expect(
      ofType(r, 'Service')
        .map((s) => s.inputs.service)
        .sort(),
    ).toEqual([...REQUIRED_APIS].sort());
    expect(ofType(r, 'Service').every((s) => s.inputs.disableOnDestroy === false)).toBe(true);
  });

  it('alerts on function errors, dead letters and stale data, by e-mail', () => {
    const policies = ofType(r, 'AlertPolicy');
    expect(policies).toHaveLength(5);
    const filters = policies.map((p) => JSON.stringify(p.inputs.conditions));
    expect(
      filters.find((f) => f.includes('logging.googleapis.com/user/crypto-dev-function-errors')),
    ).toBeDefined();
    expect(
      filters.find(
        (f) => f.includes('num_undelivered_messages') && f.includes('crypto-dev-events-dead-letter'),
      ),
    ).toBeDefined();
    expect(
      filters.find((f) => f.includes('conditionAbsent') && f.includes('crypto-dev-events-to-load')),
    ).toBeDefined();
    expect(one(r, 'Metric', 'function-errors').inputs.filter).toBe(
      'resource.type="cloud_run_revision" AND resource.labels.service_name=("crypto-dev-extract" OR "crypto-dev-load") AND severity>=ERROR',
    );
    const channel = one(r, 'NotificationChannel', 'monitoring-email');
    expect(policies.every((p) => (p.inputs.notificationChannels as string[]).length === 1)).toBe(true);
    expect(channel.inputs.labels).toEqual({ email_address: 'oncall@example.com' });
  });

  it('counts failed quality checks from the load log by severity and check, and alerts on them', () => {
    const service = '("crypto-dev-extract" OR "crypto-dev-load")';
    for (const [suffix, severity] of [
      ['quality-errors', 'ERROR'],
      ['quality-warnings', 'WARNING'],
    ] as const) {
      const metric = one(r, 'Metric', `monitoring-${suffix}`);
      expect(metric.inputs.name).toBe(`crypto-dev-${suffix}`);
      expect(metric.inputs.filter).toBe(
        `resource.type="cloud_run_revision" AND resource.labels.service_name=${service} AND jsonPayload.code="quality_check_failed" AND severity=${severity}`,
      );
      expect(metric.inputs.labelExtractors).toEqual({ check_name: 'EXTRACT(jsonPayload.checkName)' });
      const policy = one(r, 'AlertPolicy', `monitoring-${suffix}-alert`);
      expect(policy.inputs.severity).toBe(severity);
      expect(JSON.stringify(policy.inputs.conditions)).toContain(
        `logging.googleapis.com/user/crypto-dev-${suffix}`,
      );
    }
    // An integrity error alerts at once; warnings (common in CoinGecko's own numbers) when they persist.
    const duration = (suffix: string) =>
      get(
        one(r, 'AlertPolicy', `monitoring-${suffix}-alert`).inputs,
        'conditions.0.conditionThreshold.duration',
      );
    expect(duration('quality-errors')).toBe('0s');
    expect(duration('quality-warnings')).toBe('3600s');
  });

  // The three conditions share one builder (logMetricAbove0): its duration and alignment period are
  // both plain seconds, so a swap of the two type-checks and deploys. Each window is pinned whole.
  it.each([
    ['errors', 'function-errors', '0s', '300s'],
    ['quality-errors', 'quality-errors', '0s', '300s'],
    ['quality-warnings', 'quality-warnings', '3600s', '1800s'],
  ])(
    'the %s alert fires on a count above 0 of metric %s held for %s, summed per %s',
    (alert, metric, duration, alignmentPeriod) => {
      const conditions = one(r, 'AlertPolicy', `monitoring-${alert}-alert`).inputs.conditions as Json[];
      expect(conditions).toHaveLength(1);
      expect(get(conditions[0], 'conditionThreshold')).toEqual({
        filter: `metric.type="logging.googleapis.com/user/crypto-dev-${metric}" AND resource.type="cloud_run_revision"`,
        comparison: 'COMPARISON_GT',
        thresholdValue: 0,
        duration,
        aggregations: [{ alignmentPeriod, perSeriesAligner: 'ALIGN_SUM', crossSeriesReducer: 'REDUCE_SUM' }],
        trigger: { count: 1 },
      });
    },
  );

  it('triggers Cloud Build on pushes to main with the substitutions cloudbuild.yaml declares', () => {
    const trigger = one(r, 'Trigger', 'cicd-trigger');
    expect(trigger.inputs).toMatchObject({
      filename: 'cloudbuild.yaml',
      github: { owner: 'example', name: 'crypto-market-pipeline', push: { branch: '^main$' } },
      substitutions: {
        _STACK: 'dev',
        _STATE_BUCKET: 'demo-project-pulumi-state',
        _CACHE_BUCKET: `${GCP_PROJECT}-crypto-dev-build-cache`,
        _PASSPHRASE_SECRET: 'pulumi-config-passphrase',
      },
    });
  });

  it('exports the operator outputs, including the exact manual-run command', () => {
    expect(run.outputs).toMatchObject({
      extractUrl: 'https://crypto-dev-extract-abc123-uc.a.run.app',
      loadUrl: 'https://crypto-dev-load-abc123-uc.a.run.app',
      rawBucket: lakeName,
      bigqueryDataset: 'crypto_market',
      eventsTopic: 'crypto-dev-events',
      deadLetterSubscription: 'crypto-dev-events-dead-letter',
      schedulerJob: 'crypto-dev-extract',
      runNowCommand: `gcloud scheduler jobs run crypto-dev-extract --location us-central1 --project ${GCP_PROJECT}`,
      deployTrigger: 'crypto-dev-deploy',
    });
    expect(run.outputs.coingeckoBudget).toContain('2,976 calls of 10,000');
  });

  it('exports every output cloud-check reads, with the stack values', () => {
    expect(parseStackOutputs(run.outputs)).toEqual({
      project: GCP_PROJECT,
      region: 'us-central1',
      bigqueryLocation: 'US',
      dataset: 'crypto_market',
      schedulerJob: 'crypto-dev-extract',
      deadLetterSubscription: 'crypto-dev-events-dead-letter',
      extractFunction: 'crypto-dev-extract',
      loadFunction: 'crypto-dev-load',
      cadenceMinutes: 15,
    });
  });

  it('exports the Looker Studio report URL: one BigQuery data source per dashboard view, on this stack', () => {
    const url = new URL(String(run.outputs.lookerStudioReportUrl));
    expect(`${url.origin}${url.pathname}`).toBe('https://lookerstudio.google.com/reporting/create');
    const views = viewsUsed();
    for (const view of views) {
      expect(url.searchParams.get(`ds.${view}.connector`)).toBe('bigQuery');
      expect(url.searchParams.get(`ds.${view}.projectId`)).toBe(GCP_PROJECT);
      expect(url.searchParams.get(`ds.${view}.datasetId`)).toBe('crypto_market');
      expect(url.searchParams.get(`ds.${view}.tableId`)).toBe(view);
    }
    const connectors = [...url.searchParams.keys()].filter((k) => k.endsWith('.connector'));
    expect(connectors).toHaveLength(views.length);
  });

  it('names every resource after the component it belongs to', () => {
    const components = r.filter((x) => !x.custom);
    expect(components.map((c) => c.type.replace(/^crypto-market-pipeline:infra:/, '')).sort()).toEqual(
      [
        'Apis',
        'ApiKeySecret',
        'BackfillRequests',
        'CiCd',
        'Delivery',
        'EventBus',
        'Lake',
        'Monitoring',
        'Pipeline',
        'Scheduler',
        'Warehouse',
      ].sort(),
    );
    const orphans = r.filter((x) => x.custom && !components.some((c) => x.name.startsWith(`${c.name}-`)));
    expect(orphans.map((o) => o.name)).toEqual([]);
  });
});

describe('the posture check fails when the stack is weakened (mutation tests)', () => {
  const member = (stage: string) => sa(stage);
  const iam = (type: string, inputs: Json): Recorded => ({
    type,
    name: 'mutant',
    urn: 'urn:mutant',
    dependsOn: [],
    custom: true,
    inputs,
    state: {},
  });
  const find = (rs: Recorded[], name: string) => rs.find((x) => x.name === name)!;
  const set = (o: Json, path: string, value: unknown) => {
    const keys = path.split('.');
    const last = keys.pop()!;
    const target = keys.reduce<Json>((v, k) => v[k] as Json, o);
    if (value === undefined) delete target[last];
    else target[last] = value;
  };
  const mutations: [string, (rs: Recorded[]) => Recorded[], RegExp][] = [
    [
      'a public reader on the lake',
      (rs) => [
        ...rs,
        iam('gcp:storage/bucketIAMMember:BucketIAMMember', {
          bucket: lakeName,
          role: 'roles/storage.objectViewer',
          member: 'allUsers',
        }),
      ],
      /public principal allUsers/,
    ],
    [
      'allAuthenticatedUsers on the dataset',
      (rs) => [
        ...rs,
        iam('gcp:bigquery/datasetIamMember:DatasetIamMember', {
          datasetId: 'crypto_market',
          role: 'roles/bigquery.dataViewer',
          member: 'allAuthenticatedUsers',
        }),
      ],
      /public principal allAuthenticatedUsers/,
    ],
    [
      'public ingress on extract',
      (rs) => (set(find(rs, 'pipeline-extract').inputs, 'serviceConfig.ingressSettings', 'ALLOW_ALL'), rs),
      /ingress ALLOW_ALL/,
    ],
    [
      'no service account on load',
      (rs) => (set(find(rs, 'pipeline-load').inputs, 'serviceConfig.serviceAccountEmail', undefined), rs),
      /no service account/,
    ],
    [
      'load on the default compute account',
      (rs) => (
        set(
          find(rs, 'pipeline-load').inputs,
          'serviceConfig.serviceAccountEmail',
          '123-compute@developer.gserviceaccount.com',
        ),
        rs
      ),
      /default account/,
    ],
    [
      'builds on the default account',
      (rs) => (set(find(rs, 'pipeline-load').inputs, 'buildConfig.serviceAccount', undefined), rs),
      /builds as the default/,
    ],
    [
      'one account for both functions',
      (rs) => (
        set(
          find(rs, 'pipeline-load').inputs,
          'serviceConfig.serviceAccountEmail',
          member('extract').slice(15),
        ),
        rs
      ),
      /share a service account/,
    ],
    [
      'a second invoker on extract',
      (rs) => [
        ...rs,
        iam('gcp:cloudrunv2/serviceIamMember:ServiceIamMember', {
          name: get(fn('extract').state, 'serviceConfig.service'),
          role: 'roles/run.invoker',
          member: member('push'),
        }),
      ],
      /may invoke it but never calls it/,
    ],
    [
      'invoker granted project-wide',
      (rs) => [
        ...rs,
        iam('gcp:projects/iAMMember:IAMMember', {
          project: GCP_PROJECT,
          role: 'roles/run.invoker',
          member: member('scheduler'),
        }),
      ],
      /invoker granted by ProjectIAMMember/,
    ],
    [
      'extract can edit the warehouse',
      (rs) => [
        ...rs,
        iam('gcp:bigquery/datasetIamMember:DatasetIamMember', {
          datasetId: 'crypto_market',
          role: 'roles/bigquery.dataEditor',
          member: member('extract'),
        }),
      ],
      /extract identity holds DatasetIamMember roles\/bigquery.dataEditor/,
    ],
    [
      'load cannot run jobs',
      (rs) => rs.filter((x) => x.name !== 'pipeline-load-job-user'),
      /load identity lacks ProjectIAMMember roles\/bigquery.jobUser/,
    ],
    [
      'lake without uniform access',
      (rs) => (set(find(rs, 'lake-raw').inputs, 'uniformBucketLevelAccess', false), rs),
      /uniform bucket-level access off/,
    ],
    [
      'lake without public access prevention',
      (rs) => (set(find(rs, 'lake-raw').inputs, 'publicAccessPrevention', 'inherited'), rs),
      /public access prevention/,
    ],
    [
      'lake without lifecycle',
      (rs) => (set(find(rs, 'lake-raw').inputs, 'lifecycleRules', []), rs),
      /no lifecycle rules/,
    ],
    [
      'secret read at latest',
      (rs) => (
        set(
          (
            get(find(rs, 'pipeline-extract').inputs, 'serviceConfig.secretEnvironmentVariables') as Json[]
          )[0]!,
          'version',
          'latest',
        ),
        rs
      ),
      /not pinned/,
    ],
    [
      'secret access project-wide',
      (rs) => [
        ...rs,
        iam('gcp:projects/iAMMember:IAMMember', {
          project: GCP_PROJECT,
          role: 'roles/secretmanager.secretAccessor',
          member: member('load'),
        }),
      ],
      /secret access granted by ProjectIAMMember/,
    ],
    [
      'editor for the deployer',
      (rs) => [
        ...rs,
        iam('gcp:projects/iAMMember:IAMMember', {
          project: GCP_PROJECT,
          role: 'roles/editor',
          member: member('deployer'),
        }),
      ],
      /build account holds roles\/editor/,
    ],
    [
      'unconditioned project IAM admin',
      (rs) => (set(find(rs, 'cicd-project-iam-admin').inputs, 'condition', undefined), rs),
      /unconditioned project IAM admin/,
    ],
    [
      'builds on the default Cloud Build account',
      (rs) => (set(find(rs, 'cicd-trigger').inputs, 'serviceAccount', undefined), rs),
      /default Cloud Build account/,
    ],
    [
      'a dead-letter topic nobody reads',
      (rs) => rs.filter((x) => x.name !== 'events-dead-letter-sub'),
      /dead-letter topic .* has no subscription/,
    ],
  ];

  it.each(mutations)('catches %s', (_label, mutate, expected) => {
    const mutated = mutate(structuredClone(r));
    expect(securityViolations(mutated)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });
});
