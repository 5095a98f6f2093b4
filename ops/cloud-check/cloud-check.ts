import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { GoogleAuth } from 'google-auth-library';
import { queryParameters } from '../../functions/src/adapters/gcp/bigquery-rows.js';
import { type StagingPlaceholder } from '../../functions/src/schema/bigquery-schema.js';
import { readSql, renderSql } from '../../functions/src/sql/sql-files.js';
import { BigQueryApi } from './bigquery-api.js';
import { explain, type StepNeeds } from './diagnose.js';
import { GoogleApiError, RequestTimeoutError, withTimeout, type FetchFn, restClient } from './google-rest.js';
import { buildLogUrl, functionLogUrl, PlatformApi } from './platform-api.js';
import { startProgress, type CloudCheckIo } from './progress.js';
import { execProgram, readStackOutputs, type ExecFn, type StackOutputs } from './stack-outputs.js';
import { checkStatements, STAGING_TABLES } from './statements.js';

export type { CloudCheckIo } from './progress.js';

export const CLOUD_CHECK_USAGE = `cloud-check: prove a deployed stack works, end to end

usage: npm run cloud-check -- --stack <name> [options]

  --stack NAME             the Pulumi stack (reads \`pulumi stack output --json --stack NAME\`)
  --outputs FILE           read the stack outputs from FILE (that command's JSON) instead
  --wait SECONDS           how long to wait for the triggered run in ops_run (default 900)
  --poll SECONDS           how often to look (default 10)
  --request-timeout SECONDS  per API call (default 30)

Steps: the functions are deployed (else the build log), every BigQuery statement of the pipeline
(DDL, load scripts with their parameters, views) dry-runs against the dataset, the scheduler job
runs now (as \`gcloud scheduler jobs run\`), the run appears in ops_run, then rows loaded, freshness
and the dead-letter backlog. Credentials: Application Default Credentials
(\`gcloud auth application-default login\`) or CLOUD_CHECK_ACCESS_TOKEN.`;

/** Where the Google APIs are; each overridable (CLOUD_CHECK_<API>_URL) so tests use local fakes. */
export const DEFAULT_URLS = {
  bigquery: 'https://bigquery.googleapis.com',
  functions: 'https://cloudfunctions.googleapis.com',
  scheduler: 'https://cloudscheduler.googleapis.com',
  monitoring: 'https://monitoring.googleapis.com',
} as const;

export interface CloudCheckDeps {
  exec?: ExecFn;
  /** An OAuth access token; default: Application Default Credentials. */
  getAccessToken?: () => Promise<string>;
  fetch?: FetchFn;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

const NEEDS = {
  functions: { roles: ['roles/cloudfunctions.viewer'], api: 'cloudfunctions.googleapis.com' },
  staging: { roles: ['roles/bigquery.dataEditor'], api: 'bigquery.googleapis.com' },
  dryRun: {
    roles: ['roles/bigquery.jobUser (and roles/bigquery.dataViewer on the dataset)'],
    api: 'bigquery.googleapis.com',
  },
  scheduler: {
    roles: ['roles/cloudscheduler.jobRunner', 'roles/cloudscheduler.admin'],
    api: 'cloudscheduler.googleapis.com',
  },
  monitoring: { roles: ['roles/monitoring.viewer'], api: 'monitoring.googleapis.com' },
} satisfies Record<string, StepNeeds>;

const set = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

function seconds(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`--${name} must be a positive number of seconds, got '${raw}'`);
  return n;
}

interface Options {
  stack?: string;
  outputsFile?: string;
  waitMs: number;
  pollMs: number;
  requestTimeoutMs: number;
}

function parseOptions(args: string[]): Options | 'help' {
  const { values } = parseArgs({
    args,
    options: {
      stack: { type: 'string' },
      outputs: { type: 'string' },
      wait: { type: 'string' },
      poll: { type: 'string' },
      'request-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (set(values.stack) === undefined && set(values.outputs) === undefined)
    throw new Error('give --stack <name> (or --outputs <file>)');
  return {
    stack: set(values.stack),
    outputsFile: set(values.outputs),
    waitMs: seconds('wait', values.wait, 900) * 1000,
    pollMs: seconds('poll', values.poll, 10) * 1000,
    requestTimeoutMs: seconds('request-timeout', values['request-timeout'], 30) * 1000,
  };
}

async function adcToken(): Promise<string> {
  const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  const token = await auth.getAccessToken();
  if (!token) throw new Error('Application Default Credentials gave no access token');
  return token;
}

/** Collects the outcome of each step and prints it as it happens. */
class Report {
  failures = 0;
  constructor(private readonly io: CloudCheckIo) {}
  ok(text: string): void {
    this.io.out(`ok ${text}`);
  }
  info(text: string): void {
    this.io.out(`   ${text}`);
  }
  warn(text: string, hints: string[] = []): void {
    this.io.out(`WARN ${text}`);
    for (const h of hints) this.io.out(`   -> ${h}`);
  }
  fail(text: string, hints: string[] = []): void {
    this.failures++;
    this.io.out(`FAILED ${text}`);
    for (const h of hints) this.io.out(`   -> ${h}`);
  }
}

/**
 * `cloud-check`: proves a deployed stack end to end (README.md, "Check the deployment"). Resolves to the exit code: 0 every step passed, 1 a step failed,
 * 2 bad usage. Every call has a timeout, so it ends rather than hangs.
 */
export async function cloudCheckCommand(
  args: string[],
  env: Env,
  io: CloudCheckIo,
  deps: CloudCheckDeps = {},
): Promise<number> {
  let options: Options;
  try {
    const parsed = parseOptions(args);
    if (parsed === 'help') {
      io.out(CLOUD_CHECK_USAGE);
      return 0;
    }
    options = parsed;
  } catch (e) {
    io.out(`error: ${(e as Error).message}\n\n${CLOUD_CHECK_USAGE}`);
    return 2;
  }
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const report = new Report(io);

  let outputs: StackOutputs;
  try {
    outputs = await readStackOutputs(
      options,
      deps.exec ?? execProgram,
      Math.max(options.requestTimeoutMs, 60_000),
    );
    report.ok(
      `stack outputs: project ${outputs.project}, dataset ${outputs.dataset}, region ${outputs.region}`,
    );
  } catch (e) {
    report.fail('reading the stack outputs', [(e as Error).message]);
    return 1;
  }
  const { project, region } = outputs;

  let token: string;
  try {
    const envToken = set(env.CLOUD_CHECK_ACCESS_TOKEN);
    token =
      envToken ??
      (await withTimeout(
        (deps.getAccessToken ?? adcToken)(),
        options.requestTimeoutMs,
        () => new Error(`no access token within ${options.requestTimeoutMs / 1000} s`),
      ));
    report.ok('credentials');
  } catch (e) {
    report.fail('getting an access token', [
      (e as Error).message,
      'log in with Application Default Credentials: gcloud auth application-default login',
    ]);
    return 1;
  }

  const rest = restClient({ token, timeoutMs: options.requestTimeoutMs, fetch: deps.fetch });
  const url = (name: keyof typeof DEFAULT_URLS) =>
    (set(env[`CLOUD_CHECK_${name.toUpperCase()}_URL`]) ?? DEFAULT_URLS[name]).replace(/\/+$/, '');
  const bigquery = new BigQueryApi(rest, url('bigquery'), project, outputs.dataset, outputs.bigqueryLocation);
  const platform = new PlatformApi(
    rest,
    { functions: url('functions'), scheduler: url('scheduler'), monitoring: url('monitoring') },
    project,
    region,
  );

  const functionsReady = await checkFunctions(platform, outputs, report);
  await dryRunStatements(bigquery, outputs, report, now);
  if (!functionsReady) report.fail('triggering a run: skipped, the functions are not ready (see above)');
  else if (await trigger(platform, outputs, report)) {
    const triggeredAt = now();
    await waitForRun(bigquery, outputs, report, io, { ...options, triggeredAt, now, sleep });
  }
  await showFreshness(bigquery, outputs, report, options.requestTimeoutMs);
  await showDeadLetters(platform, outputs, report, now());

  if (report.failures === 0) {
    io.out('cloud-check passed: the deployment works end to end');
    return 0;
  }
  io.out(`cloud-check failed: ${report.failures} step(s), see FAILED above`);
  return 1;
}

/** Both functions are deployed and serving; a failed build points at its log. */
async function checkFunctions(platform: PlatformApi, o: StackOutputs, report: Report): Promise<boolean> {
  let ready = true;
  for (const name of [o.extractFunction, o.loadFunction]) {
    try {
      const fn = await platform.getFunction(name);
      if (fn.state === 'ACTIVE') {
        report.ok(`function ${name} is active`);
        continue;
      }
      ready = false;
      const messages = (fn.stateMessages ?? []).map((m) => `${m.severity ?? ''} ${m.message ?? ''}`.trim());
      const log = buildLogUrl(fn.buildConfig?.build, o.project, o.region);
      report.fail(`function ${name} is ${fn.state ?? 'in an unknown state'}`, [
        ...messages,
        log ? `build log: ${log}` : `logs: ${functionLogUrl(name, o.project, o.region)}`,
        'fix the cause, then `pulumi up` again (it rebuilds the function)',
      ]);
    } catch (e) {
      ready = false;
      report.fail(`reading function ${name}`, explain(e, NEEDS.functions, o.project));
    }
  }
  return ready;
}

/**
 * Dry-runs every statement against the real dataset. The load script reads per-run staging tables
 * that exist only during a load, so empty ones with the same columns are created for the dry run
 * (expiring by themselves within the hour) and deleted after it.
 */
async function dryRunStatements(
  bigquery: BigQueryApi,
  o: StackOutputs,
  report: Report,
  now: () => Date,
): Promise<void> {
  const suffix = randomBytes(4).toString('hex');
  const staging = Object.fromEntries(
    Object.keys(STAGING_TABLES).map((p) => [p, `_cloud_check_${suffix}_${p.replace(/^staging_/, '')}`]),
  ) as Record<StagingPlaceholder, string>;
  const created: string[] = [];
  let stagingReady = true;
  try {
    for (const [placeholder, tableId] of Object.entries(staging)) {
      await bigquery.createTable(
        tableId,
        STAGING_TABLES[placeholder as StagingPlaceholder],
        new Date(now().getTime() + 3_600_000),
      );
      created.push(tableId);
    }
  } catch (e) {
    stagingReady = false;
    report.fail('creating staging tables for the load script dry run', explain(e, NEEDS.staging, o.project));
  }
  try {
    for (const statement of checkStatements(o.project, o.dataset, staging, now())) {
      const usesStaging = Object.values(staging).some((t) => statement.sql.includes(t));
      if (usesStaging && !stagingReady) {
        report.fail(`dry run ${statement.file}: skipped, no staging tables`);
        continue;
      }
      try {
        const bytes = await bigquery.dryRun(statement.sql, statement.parameters);
        report.ok(`dry run ${statement.file} (would process ${bytes} bytes)`);
      } catch (e) {
        report.fail(`dry run ${statement.file}`, explain(e, NEEDS.dryRun, o.project));
      }
    }
  } finally {
    for (const tableId of created) {
      await bigquery.deleteTable(tableId).catch((e: unknown) => {
        report.warn(`could not delete staging table ${tableId}; it expires within the hour`, [
          (e as Error).message,
        ]);
      });
    }
  }
}

async function trigger(platform: PlatformApi, o: StackOutputs, report: Report): Promise<boolean> {
  try {
    await platform.runJob(o.schedulerJob);
    report.ok(
      `triggered scheduler job ${o.schedulerJob} (as gcloud scheduler jobs run ${o.schedulerJob} --location ${o.region} --project ${o.project})`,
    );
    return true;
  } catch (e) {
    report.fail(`triggering scheduler job ${o.schedulerJob}`, explain(e, NEEDS.scheduler, o.project));
    return false;
  }
}

const isTransient = (e: unknown) =>
  e instanceof RequestTimeoutError || (e instanceof GoogleApiError && (e.status === 429 || e.status >= 500));

/** Polls ops_run until the run of the triggered slot is recorded, loaded or failed, or the wait is over. */
async function waitForRun(
  bigquery: BigQueryApi,
  o: StackOutputs,
  report: Report,
  io: CloudCheckIo,
  t: Options & { triggeredAt: Date; now: () => Date; sleep: (ms: number) => Promise<void> },
): Promise<void> {
  const file = 'ops/recent_run.sql';
  const sql = renderSql(readSql(file), { dataset: [o.project, o.dataset] });
  const params = queryParameters(
    { triggered_at: 'TIMESTAMP', cadence_minutes: 'INT64' },
    { triggered_at: t.triggeredAt, cadence_minutes: o.cadenceMinutes },
  );
  const started = t.now().getTime();
  const elapsed = () => Math.round((t.now().getTime() - started) / 1000);
  const progress = startProgress(io, `waiting for the run to appear in ops_run (up to ${t.waitMs / 1000} s)`);
  for (;;) {
    try {
      const [run] = await bigquery.query(sql, params, Math.min(t.requestTimeoutMs, 10_000));
      if (run !== undefined && (run.status === 'loaded' || run.status === 'failed')) {
        const id = String(run.run_id);
        if (run.status === 'loaded') {
          progress.succeed(`run ${id} is in ops_run after ${elapsed()} s`);
          report.ok(
            `run ${id} loaded: ${String(run.records_loaded)} rows (records in ${String(run.records_in)}, rejected ${String(run.records_rejected)})`,
          );
        } else {
          progress.fail(`run ${id} is in ops_run after ${elapsed()} s`);
          report.fail(`run ${id} failed: ${String(run.error_code)}: ${String(run.error_message)}`, [
            `extract logs: ${functionLogUrl(o.extractFunction, o.project, o.region)}`,
            `load logs: ${functionLogUrl(o.loadFunction, o.project, o.region)}`,
          ]);
        }
        return;
      }
    } catch (e) {
      if (!isTransient(e)) {
        progress.fail('waiting for the run');
        report.fail('reading ops_run', explain(e, NEEDS.dryRun, o.project));
        return;
      }
    }
    if (t.now().getTime() - started + t.pollMs > t.waitMs) break;
    await t.sleep(t.pollMs);
    progress.update(`waiting for the run to appear in ops_run (${elapsed()} s of ${t.waitMs / 1000} s)`);
  }
  progress.fail(`no run in ops_run after ${elapsed()} s`);
  report.fail(`no run of the triggered slot reached ops_run within ${t.waitMs / 1000} s`, [
    `extract logs (did it fetch and publish?): ${functionLogUrl(o.extractFunction, o.project, o.region)}`,
    `load logs (did the push arrive?): ${functionLogUrl(o.loadFunction, o.project, o.region)}`,
    `dead letters: gcloud pubsub subscriptions pull ${o.deadLetterSubscription} --limit 10 --project ${o.project}`,
  ]);
}

async function showFreshness(
  bigquery: BigQueryApi,
  o: StackOutputs,
  report: Report,
  timeoutMs: number,
): Promise<void> {
  try {
    const sql = renderSql(
      'select f.source, f.vs_currency, f.newest_slot_ts, f.minutes_since_newest_slot, f.runs_loaded\nfrom {{dataset}}.v_freshness as f',
      { dataset: [o.project, o.dataset] },
    );
    const rows = await bigquery.query(sql, [], Math.min(timeoutMs, 10_000));
    if (rows.length === 0) report.fail('freshness: no loaded run yet (v_freshness is empty)');
    for (const r of rows) {
      const newest =
        r.newest_slot_ts instanceof Date ? r.newest_slot_ts.toISOString() : String(r.newest_slot_ts);
      report.ok(
        `freshness ${String(r.source)}/${String(r.vs_currency)}: newest slot ${newest} (${String(r.minutes_since_newest_slot)} min ago), ${String(r.runs_loaded)} runs loaded`,
      );
    }
  } catch (e) {
    report.fail('reading v_freshness', explain(e, NEEDS.dryRun, o.project));
  }
}

async function showDeadLetters(
  platform: PlatformApi,
  o: StackOutputs,
  report: Report,
  now: Date,
): Promise<void> {
  try {
    const backlog = await platform.undeliveredMessages(o.deadLetterSubscription, now);
    if (backlog === undefined)
      report.ok(
        `dead-letter backlog: no sample of ${o.deadLetterSubscription} in the last 15 min (Monitoring lags a few minutes)`,
      );
    else if (backlog === 0) report.ok(`dead-letter backlog: 0 messages in ${o.deadLetterSubscription}`);
    else
      report.warn(`dead-letter backlog: ${backlog} message(s) wait in ${o.deadLetterSubscription}`, [
        `inspect: gcloud pubsub subscriptions pull ${o.deadLetterSubscription} --limit 10 --project ${o.project}`,
      ]);
  } catch (e) {
    report.fail('reading the dead-letter backlog', explain(e, NEEDS.monitoring, o.project));
  }
}
