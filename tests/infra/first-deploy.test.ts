import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PIPELINE_PROJECT_ROLES } from '../../infra/components/pipeline.js';
import { analysisOptionsFor, useZetaSql } from '../support/zetasql.js';
import {
  dependsOnTransitively,
  ofType,
  one,
  PROJECT_NUMBER,
  removeFixtures,
  runProgram,
  stackConfig,
  type Recorded,
} from './support/harness.js';
import { grants } from './support/posture.js';

/**
 * Issue 10: what a first `pulumi up` on an empty project needs, asserted on the program under
 * mocks so that none of it can quietly come back. The stack's project id needs quoting in SQL
 * (a dash after a digit), as many real ones do.
 */
const PROJECT = 'acme-2fa-prod';
const REGION = 'us-central1';
let r: Recorded[];
beforeAll(async () => {
  r = (await runProgram(stackConfig({ 'gcp:project': PROJECT }))).resources;
});
afterAll(removeFixtures);

type Json = Record<string, unknown>;
const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v == null ? undefined : (v as Json)[k]), o);
const seconds = (sleep: Recorded) => {
  const m = /^(\d+)s$/.exec(String(sleep.inputs.createDuration));
  if (!m) throw new Error(`${sleep.name}: createDuration ${String(sleep.inputs.createDuration)}`);
  return Number(m[1]);
};
const byUrn = (urn: string) => r.find((x) => x.urn === urn);
/** The sleeps `res` waits for directly that themselves wait for `target` and last at least `min` s. */
const sleepsBetween = (res: Recorded, target: Recorded, min: number) =>
  res.dependsOn
    .map(byUrn)
    .filter((d): d is Recorded => d !== undefined && d.type === 'time:index/sleep:Sleep')
    .filter((s) => seconds(s) >= min && s.dependsOn.includes(target.urn));
const buildAccount = () => get(one(r, 'Function', '-extract').inputs, 'buildConfig.serviceAccount') as string;
const buildMember = () =>
  `serviceAccount:${buildAccount().replace(/^projects\/[^/]+\/serviceAccounts\//, '')}`;

describe('1. the build account can read the source Cloud Functions copies for it', () => {
  const bucket = `projects/_/buckets/gcf-v2-sources-${PROJECT_NUMBER}-${REGION}`;

  it('holds object read at project level, narrowed by a condition to gcf-v2-sources-<number>-<region>', () => {
    const viewer = ofType(r, 'IAMMember').filter(
      (g) => g.inputs.role === 'roles/storage.objectViewer' && g.inputs.member === buildMember(),
    );
    expect(viewer).toHaveLength(1);
    const condition = viewer[0]!.inputs.condition as { expression: string; title: string } | undefined;
    expect(condition?.title).toBeTruthy();
    expect(condition?.expression).toBe(`resource.name.startsWith("${bucket}")`);
    expect(viewer[0]!.inputs.project).toBe(PROJECT);
  });

  it('is the account both functions build as', () => {
    for (const f of ofType(r, 'Function'))
      expect(get(f.inputs, 'buildConfig.serviceAccount')).toBe(buildAccount());
  });

  it('gives the build account no storage role at project level without a condition', () => {
    const unconditioned = grants(r).filter(
      (g) =>
        g.member === buildMember() &&
        g.on.startsWith('project:') &&
        g.role.startsWith('roles/storage.') &&
        !g.conditioned,
    );
    expect(unconditioned).toEqual([]);
  });

  it('lets the deployer grant every project role the stack grants, and only those', () => {
    const deployer = one(r, 'IAMMember', 'cicd-project-iam-admin');
    const expression = get(deployer.inputs, 'condition.expression') as string;
    const allowed = [...expression.matchAll(/'(roles\/[^']+)'/g)].map((m) => m[1]).sort();
    const deployerMember = deployer.inputs.member;
    const grantedByStack = grants(r)
      .filter((g) => g.kind === 'ProjectIAMMember' && g.member !== deployerMember)
      .map((g) => g.role);
    expect(allowed).toEqual([...new Set(grantedByStack)].sort());
    expect(allowed).toEqual([...PIPELINE_PROJECT_ROLES].sort());
    expect(allowed).toContain('roles/storage.objectViewer');
  });
});

describe('2. the alert on the log-based metric waits until Monitoring knows the metric', () => {
  it('creates the error alert policy after a sleep of at least 180 s that follows the metric', () => {
    const metric = one(r, 'Metric', '-function-errors');
    const userMetric = `logging.googleapis.com/user/${metric.inputs.name as string}`;
    const onMetric = ofType(r, 'AlertPolicy').filter((p) => JSON.stringify(p.inputs).includes(userMetric));
    expect(onMetric.map((p) => p.name)).toEqual(['monitoring-errors-alert']);
    for (const policy of onMetric) expect(sleepsBetween(policy, metric, 180)).toHaveLength(1);
  });

  it.each([
    ['-quality-errors', 'monitoring-quality-errors-alert'],
    ['-quality-warnings', 'monitoring-quality-warnings-alert'],
  ])('creates the alert on metric %s after a sleep of at least 180 s that follows it', (suffix, alert) => {
    const metric = one(r, 'Metric', suffix);
    const userMetric = `logging.googleapis.com/user/${metric.inputs.name as string}`;
    const onMetric = ofType(r, 'AlertPolicy').filter((p) => JSON.stringify(p.inputs).includes(userMetric));
    expect(onMetric.map((p) => p.name)).toEqual([alert]);
    for (const policy of onMetric) expect(sleepsBetween(policy, metric, 180)).toHaveLength(1);
  });

  it('waits again when the metric is replaced (the sleep is triggered by its name)', () => {
    const sleep = one(r, 'Sleep', 'metric-propagation');
    expect(sleep.inputs.triggers).toEqual({ metric: 'crypto-dev-function-errors' });
    const quality = one(r, 'Sleep', 'propagation-of-quality-metrics');
    expect(quality.inputs.triggers).toEqual({
      errors: 'crypto-dev-quality-errors',
      warnings: 'crypto-dev-quality-warnings',
    });
  });
});

describe('3. one `pulumi up` on an empty project: waits for APIs and IAM to propagate', () => {
  it('waits at least 60 s after every API is enabled, before anything uses one', () => {
    const apiSleep = one(r, 'Sleep', 'apis-propagation');
    expect(seconds(apiSleep)).toBeGreaterThanOrEqual(60);
    const services = ofType(r, 'Service');
    expect(services.length).toBeGreaterThan(10);
    for (const s of services) expect(apiSleep.dependsOn).toContain(s.urn);
    const users = r.filter(
      (x) => x.custom && x.type.startsWith('gcp:') && x.type !== 'gcp:projects/service:Service',
    );
    expect(users.length).toBeGreaterThan(40);
    const early = users.filter((x) => !dependsOnTransitively(r, x, apiSleep)).map((x) => x.name);
    expect(early).toEqual([]);
  });

  it('builds each function at least 60 s after every grant to its build and runtime accounts', () => {
    for (const f of ofType(r, 'Function')) {
      const runtime = `serviceAccount:${get(f.inputs, 'serviceConfig.serviceAccountEmail') as string}`;
      const needed = r.filter(
        (g) => (g.inputs.member === runtime || g.inputs.member === buildMember()) && /IAM|Iam/.test(g.type),
      );
      expect(needed.length).toBeGreaterThanOrEqual(5);
      for (const grant of needed) {
        expect({ fn: f.name, grant: grant.name, waits: sleepsBetween(f, grant, 60).length }).toEqual({
          fn: f.name,
          grant: grant.name,
          waits: 1,
        });
      }
    }
  });

  it('waits again when a grant is added later (the sleep is triggered by the grants)', () => {
    const sleep = one(r, 'Sleep', 'iam-propagation');
    const triggered = String(get(sleep.inputs, 'triggers.grants')).split(',');
    const grantUrns = sleep.dependsOn.filter((urn) => /IAM|Iam/.test(urn));
    expect(grantUrns.length).toBeGreaterThanOrEqual(10);
    expect(triggered.sort()).toEqual(grantUrns.sort());
  });

  it('creates project IAM grants only after the APIs (Resource Manager, IAM) are on', () => {
    const apiSleep = one(r, 'Sleep', 'apis-propagation');
    for (const g of ofType(r, 'IAMMember').filter((x) => x.inputs.project !== undefined))
      expect({ grant: g.name, direct: g.dependsOn.includes(apiSleep.urn) }).toEqual({
        grant: g.name,
        direct: true,
      });
  });
});

describe('4. view SQL names the project quoted, so any project id works', () => {
  const zetasql = useZetaSql();
  const views = () => ofType(r, 'Table').filter((t) => t.inputs.view !== undefined);

  it('qualifies every table a view reads with the backtick-quoted project and dataset', () => {
    expect(views().length).toBeGreaterThan(0);
    for (const v of views()) {
      const query = get(v.inputs, 'view.query') as string;
      expect(query).toContain(`\`${PROJECT}\`.\`crypto_market\`.`);
      // The project never appears outside quotes.
      expect(query.replace(new RegExp(`\`${PROJECT}\``, 'g'), '')).not.toContain(PROJECT);
    }
  });

  it('creates views BigQuery (ZetaSQL) accepts for that project', async () => {
    for (const v of views()) {
      const query = get(v.inputs, 'view.query') as string;
      const sql = `create or replace view \`${PROJECT}\`.\`crypto_market\`.${v.inputs.tableId as string} as\n${query}`;
      const options = analysisOptionsFor('views/none.sql', undefined, PROJECT);
      const results = await zetasql().analyseScript(sql, options);
      expect({ view: v.name, errors: results.flatMap((x) => (x.error ? [x.error] : [])) }).toEqual({
        view: v.name,
        errors: [],
      });
    }
  });
});
