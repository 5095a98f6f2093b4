import { parseArgs } from 'node:util';
import { GoogleAuth } from 'google-auth-library';
import { BigQueryApi } from './bigquery-api.js';
import { withTimeout, type FetchFn, restClient } from '../../functions/src/adapters/gcp/google-rest.js';
import { runCloudCommand } from './command.js';
import { PlatformApi } from './platform-api.js';
import type { CloudCheckIo } from './progress.js';
import { Report } from './report.js';
import { execProgram, readStackOutputs, type ExecFn, type StackOutputs } from './stack-outputs.js';
import {
  checkFunctions,
  dryRunStatements,
  showDeadLetters,
  showFreshness,
  trigger,
  waitForRun,
} from './steps.js';

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

/** An access token from Application Default Credentials (shared with `replay --stack`). */
export async function adcToken(): Promise<string> {
  const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  const token = await auth.getAccessToken();
  if (!token) throw new Error('Application Default Credentials gave no access token');
  return token;
}

/**
 * `cloud-check`: proves a deployed stack end to end (README.md, "Check the deployment"). Resolves to the exit code: 0 every step passed, 1 a step failed,
 * 2 bad usage. Every call has a timeout, so it ends rather than hangs.
 */
export function cloudCheckCommand(
  args: string[],
  env: Env,
  io: CloudCheckIo,
  deps: CloudCheckDeps = {},
): Promise<number> {
  return runCloudCommand(args, io, CLOUD_CHECK_USAGE, parseOptions, (options) =>
    checkStack(options, env, io, deps),
  );
}

/** cloud-check's steps, once its options are parsed. */
async function checkStack(
  options: Options,
  env: Env,
  io: CloudCheckIo,
  deps: CloudCheckDeps,
): Promise<number> {
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
