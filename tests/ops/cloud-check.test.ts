import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { cloudCheckCommand, type CloudCheckDeps } from '../../ops/cloud-check/cloud-check.js';
import { execProgram } from '../../ops/cloud-check/stack-outputs.js';
import { statementFiles } from '../../ops/cloud-check/statements.js';
import {
  FakeGcpServer,
  googleError,
  type FakeResponse,
  type RecordedRequest,
} from '../support/fake-gcp-server.js';

/**
 * cloud-check against local HTTP fakes of BigQuery, Cloud Functions, Cloud Scheduler and Cloud
 * Monitoring (one FakeGcpServer on 127.0.0.1 stands in for all four; the command is pointed at it
 * through CLOUD_CHECK_*_URL). What is asserted is what the command sends, what it prints for each
 * answer, and that it ends (never hangs) when an API does not answer.
 */
const PROJECT = 'acme-2fa-prod';
const BQ = `/bigquery/v2/projects/${PROJECT}`;
const FN = (name: string) => `/v2/projects/${PROJECT}/locations/us-central1/functions/${name}`;
const RUN = `/v1/projects/${PROJECT}/locations/us-central1/jobs/crypto-dev-extract:run`;
const SERIES = `/v3/projects/${PROJECT}/timeSeries`;

const OUTPUTS = {
  gcpProject: PROJECT,
  region: 'us-central1',
  bigqueryLocation: 'US',
  bigqueryDataset: 'crypto_market',
  schedulerJob: 'crypto-dev-extract',
  deadLetterSubscription: 'crypto-dev-events-dead-letter',
  extractFunction: 'crypto-dev-extract',
  loadFunction: 'crypto-dev-load',
  cadenceMinutes: 15,
  extractUrl: 'https://crypto-dev-extract-abc-uc.a.run.app',
};

let server: FakeGcpServer;
let dir: string;
let outputsFile: string;
beforeAll(async () => {
  server = await FakeGcpServer.start();
  dir = mkdtempSync(join(tmpdir(), 'cloud-check-'));
  outputsFile = join(dir, 'outputs.json');
  writeFileSync(outputsFile, JSON.stringify(OUTPUTS));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => server.reset());

const env = () => ({
  CLOUD_CHECK_ACCESS_TOKEN: 'test-token',
  CLOUD_CHECK_BIGQUERY_URL: server.url,
  CLOUD_CHECK_FUNCTIONS_URL: server.url,
  CLOUD_CHECK_SCHEDULER_URL: server.url,
  CLOUD_CHECK_MONITORING_URL: `${server.url}/`,
});

/** A clock that moves only when the command sleeps between polls: the test takes no real time. */
function fakeTime(): Required<Pick<CloudCheckDeps, 'now' | 'sleep'>> {
  let t = Date.parse('2026-12-05T06:00:00Z');
  return {
    now: () => new Date(t),
    sleep: async (ms) => {
      t += ms;
    },
  };
}

async function check(args: string[], deps: CloudCheckDeps = {}, envOverride: Record<string, string> = {}) {
  const lines: string[] = [];
  const code = await cloudCheckCommand(
    args,
    { ...env(), ...envOverride },
    { out: (l) => lines.push(l) },
    {
      ...fakeTime(),
      ...deps,
    },
  );
  return { code, text: lines.join('\n'), lines };
}

const queryText = (req: RecordedRequest) => (JSON.parse(req.body.toString()) as { query: string }).query;
const jobQuery = (req: RecordedRequest) =>
  (
    JSON.parse(req.body.toString()) as {
      configuration: { dryRun: boolean; query: { query: string; queryParameters: { name: string }[] } };
    }
  ).configuration;

const runRow = (status: string, extra: (string | null)[] = [null, null]): FakeResponse => ({
  body: {
    jobComplete: true,
    schema: {
      fields: [
        'run_id',
        'status',
        'slot_ts',
        'records_in',
        'records_loaded',
        'records_rejected',
        'error_code',
        'error_message',
        'updated_at',
      ].map((name) => ({
        name,
        type: /_ts|_at/.test(name) ? 'TIMESTAMP' : /records/.test(name) ? 'INTEGER' : 'STRING',
      })),
    },
    rows: [
      {
        f: [
          'coingecko_usd_20261205T060000Z',
          status,
          '1796450400000000',
          '250',
          status === 'loaded' ? '249' : '0',
          '1',
          ...extra,
          '1796450460000000',
        ].map((v) => ({ v })),
      },
    ],
  },
});
const freshnessRow: FakeResponse = {
  body: {
    jobComplete: true,
    schema: {
      fields: [
        { name: 'source', type: 'STRING' },
        { name: 'vs_currency', type: 'STRING' },
        { name: 'newest_slot_ts', type: 'TIMESTAMP' },
        { name: 'minutes_since_newest_slot', type: 'INTEGER' },
        { name: 'runs_loaded', type: 'INTEGER' },
      ],
    },
    rows: [{ f: ['coingecko', 'usd', '1796450400000000', '3', '12'].map((v) => ({ v })) }],
  },
};
const noRows: FakeResponse = { body: { jobComplete: true, schema: { fields: [] }, rows: [] } };

/** A healthy deployment: the run shows up in ops_run at the `appearsAfter`-th look. */
function healthy(appearsAfter = 2): void {
  let looks = 0;
  server
    .on('GET', FN('crypto-dev-extract'), { body: { state: 'ACTIVE' } })
    .on('GET', FN('crypto-dev-load'), { body: { state: 'ACTIVE' } })
    .on('POST', `${BQ}/datasets/crypto_market/tables`, (req) => ({
      body: JSON.parse(req.body.toString()) as unknown,
    }))
    .on('DELETE', new RegExp(`^${BQ}/datasets/crypto_market/tables/_cloud_check_`), { status: 204 })
    .on('POST', `${BQ}/jobs`, { body: { statistics: { totalBytesProcessed: '1024' } } })
    .on('POST', RUN, { body: { name: 'job' } })
    .on('POST', `${BQ}/queries`, (req) => {
      if (queryText(req).includes('v_freshness')) return freshnessRow;
      looks++;
      return looks >= appearsAfter ? runRow('loaded') : noRows;
    })
    .on('GET', SERIES, { body: { timeSeries: [{ points: [{ value: { int64Value: '0' } }] }] } });
}

describe('cloud-check on a healthy deployment', () => {
  it('checks everything, in order, and passes', async () => {
    healthy(3);
    const { code, text } = await check(['--outputs', outputsFile, '--poll', '5']);
    expect(server.unmatched).toEqual([]);
    expect(code).toBe(0);
    expect(text).toMatch(/ok function crypto-dev-extract is active/);
    expect(text).toMatch(/ok triggered scheduler job crypto-dev-extract/);
    // The progress of the wait, as plain lines (no terminal here), then the outcome.
    expect(text).toMatch(
      /… waiting for the run to appear in ops_run \(5 s of 900 s\)\n… waiting .*\(10 s of 900 s\)\nok run/,
    );
    expect(text).toMatch(
      /ok run coingecko_usd_20261205T060000Z loaded: 249 rows \(records in 250, rejected 1\)/,
    );
    expect(text).toMatch(
      /ok freshness coingecko\/usd: newest slot 2026-12-05T06:00:00.000Z \(3 min ago\), 12 runs loaded/,
    );
    expect(text).toMatch(/ok dead-letter backlog: 0 messages in crypto-dev-events-dead-letter/);
    expect(text).toMatch(/cloud-check passed/);
    const order = server.requests.map(
      (r) => `${r.method} ${r.path.replace(/\/(tables|functions)\/.*$/, '/$1/…')}`,
    );
    const first = (s: string) => order.findIndex((o) => o.startsWith(s));
    expect(first(`GET ${FN('')}`)).toBeLessThan(first(`POST ${BQ}/jobs`));
    expect(first(`POST ${BQ}/jobs`)).toBeLessThan(first(`POST ${RUN}`));
    expect(first(`POST ${RUN}`)).toBeLessThan(first(`POST ${BQ}/queries`));
    for (const r of server.requests) expect(r.headers.authorization).toBe('Bearer test-token');
  });

  it('dry-runs every DDL, load script (with its parameters) and view, quoted for the project', async () => {
    healthy();
    await check(['--outputs', outputsFile]);
    const dryRuns = server.find('POST', `${BQ}/jobs`).map(jobQuery);
    expect(dryRuns).toHaveLength(statementFiles().length);
    expect(statementFiles()).toEqual(
      expect.arrayContaining([
        'ddl/fact_market_snapshot.sql',
        'load/merge_run.sql',
        'views/v_daily_ohlc.sql',
      ]),
    );
    for (const job of dryRuns) {
      expect(job.dryRun).toBe(true);
      expect(job.query.query).toContain(`\`${PROJECT}\`.\`crypto_market\`.`);
      expect(job.query.query).not.toContain('{{');
    }
    const merge = dryRuns.find((j) => j.query.query.includes('fact_rows_inserted'))!;
    expect(merge.query.queryParameters.map((p) => p.name).sort()).toEqual([
      'load_started_at',
      'raw_generation',
      'raw_object',
      'records_duplicate',
      'records_in',
      'records_rejected',
      'run_id',
      'slot_ts',
      'snapshot_date',
      'source',
      'vs_currency',
    ]);
    // The staging tables the script reads were created for the dry run, and deleted after it.
    const created = server
      .find('POST', `${BQ}/datasets/crypto_market/tables`)
      .map(
        (r) =>
          JSON.parse(r.body.toString()) as { tableReference: { tableId: string }; expirationTime: string },
      );
    // Four for merge_run.sql, one more (the points) for merge_price_history.sql, which shares the date one.
    const history = dryRuns.find((j) => j.query.query.includes('points_inserted'))!;
    expect(created).toHaveLength(5);
    for (const t of created) {
      expect(`${merge.query.query}\n${history.query.query}`).toContain(`\`${t.tableReference.tableId}\``);
      expect(Number(t.expirationTime)).toBeGreaterThan(Date.parse('2026-12-05T06:00:00Z'));
    }
    const deleted = server.find('DELETE', /tables\//).map((r) => r.path.split('/').pop());
    expect(deleted.sort()).toEqual(created.map((t) => t.tableReference.tableId).sort());
  });

  it('reads the stack outputs through the Pulumi CLI when given --stack', async () => {
    healthy(1);
    const calls: string[][] = [];
    const { code } = await check(['--stack', 'dev'], {
      exec: async (file, args) => {
        calls.push([file, ...args]);
        return JSON.stringify(OUTPUTS);
      },
    });
    expect(code).toBe(0);
    expect(calls).toEqual([['pulumi', 'stack', 'output', '--json', '--stack', 'dev', '--non-interactive']]);
  });
});

describe('cloud-check says what to do when a step fails', () => {
  it('names the API to enable on SERVICE_DISABLED', async () => {
    healthy();
    server.first('GET', FN('crypto-dev-extract'), {
      status: 403,
      body: {
        error: {
          code: 403,
          status: 'PERMISSION_DENIED',
          message: 'Cloud Functions API has not been used in project 123 before or it is disabled.',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'SERVICE_DISABLED',
              metadata: { service: 'cloudfunctions.googleapis.com' },
            },
          ],
        },
      },
    });
    const { code, text } = await check(['--outputs', outputsFile]);
    expect(code).toBe(1);
    expect(text).toMatch(/FAILED reading function crypto-dev-extract/);
    expect(text).toMatch(/gcloud services enable cloudfunctions.googleapis.com --project acme-2fa-prod/);
    expect(text).toMatch(/triggering a run: skipped/);
    expect(server.find('POST', RUN)).toHaveLength(0);
  });

  it('names the role on a permission error', async () => {
    healthy();
    server.first(
      'POST',
      RUN,
      googleError(403, 'forbidden', "The principal lacks IAM permission 'cloudscheduler.jobs.run'"),
    );
    const { code, text } = await check(['--outputs', outputsFile]);
    expect(code).toBe(1);
    expect(text).toMatch(/FAILED triggering scheduler job crypto-dev-extract/);
    expect(text).toMatch(/permission denied: The principal lacks IAM permission 'cloudscheduler.jobs.run'/);
    expect(text).toMatch(
      /needs roles\/cloudscheduler.jobRunner or roles\/cloudscheduler.admin on project acme-2fa-prod/,
    );
  });

  it('links the build log of a function whose build failed', async () => {
    healthy();
    server.first('GET', FN('crypto-dev-load'), {
      body: {
        state: 'FAILED',
        stateMessages: [
          { severity: 'ERROR', type: 'BuildFailed', message: 'Build failed: npm ERR! missing script' },
        ],
        buildConfig: { build: 'projects/123456789012/locations/us-central1/builds/b-42' },
      },
    });
    const { code, text } = await check(['--outputs', outputsFile]);
    expect(code).toBe(1);
    expect(text).toMatch(/FAILED function crypto-dev-load is FAILED/);
    expect(text).toMatch(/ERROR Build failed: npm ERR! missing script/);
    expect(text).toContain(
      'build log: https://console.cloud.google.com/cloud-build/builds;region=us-central1/b-42?project=acme-2fa-prod',
    );
  });

  it('reports a statement BigQuery rejects, and still checks the others', async () => {
    healthy();
    server.first(
      'POST',
      `${BQ}/jobs`,
      googleError(400, 'invalidQuery', 'Unrecognized name: price at [12:3]'),
    );
    const { code, text } = await check(['--outputs', outputsFile]);
    expect(code).toBe(1);
    expect(text).toMatch(new RegExp(`FAILED dry run ${statementFiles()[0]!.replace('/', '\\/')}`));
    expect(text).toMatch(/answered 400: Unrecognized name: price/);
    expect(server.find('POST', `${BQ}/jobs`)).toHaveLength(statementFiles().length);
  });

  it('reports a failed run with its error and the logs to read', async () => {
    healthy();
    server.first('POST', `${BQ}/queries`, runRow('failed', ['market_http_403', 'CoinGecko refused the key']));
    const { code, text } = await check(['--outputs', outputsFile]);
    expect(code).toBe(1);
    expect(text).toMatch(
      /FAILED run coingecko_usd_20261205T060000Z failed: market_http_403: CoinGecko refused the key/,
    );
    expect(text).toContain(
      'extract logs: https://console.cloud.google.com/run/detail/us-central1/crypto-dev-extract/logs?project=acme-2fa-prod',
    );
  });

  it('gives up waiting after --wait when the run never appears, and says where to look', async () => {
    healthy(Number.POSITIVE_INFINITY);
    const { code, text } = await check(['--outputs', outputsFile, '--wait', '60', '--poll', '10']);
    expect(code).toBe(1);
    expect(text).toMatch(/no run of the triggered slot reached ops_run within 60 s/);
    expect(text).toMatch(/gcloud pubsub subscriptions pull crypto-dev-events-dead-letter/);
    expect(
      server.find('POST', `${BQ}/queries`).filter((r) => !queryText(r).includes('v_freshness')).length,
    ).toBe(7); // at 0, 10, ..., 60 s
  });

  it('warns about a dead-letter backlog', async () => {
    healthy();
    server.first('GET', SERIES, { body: { timeSeries: [{ points: [{ value: { int64Value: '3' } }] }] } });
    const { text } = await check(['--outputs', outputsFile]);
    expect(text).toMatch(/WARN dead-letter backlog: 3 message\(s\) wait in crypto-dev-events-dead-letter/);
  });

  it('tells how to log in when there are no credentials', async () => {
    const { code, text } = await check(
      ['--outputs', outputsFile],
      { getAccessToken: () => Promise.reject(new Error('Could not load the default credentials')) },
      { CLOUD_CHECK_ACCESS_TOKEN: '' },
    );
    expect(code).toBe(1);
    expect(text).toMatch(/gcloud auth application-default login/);
  });

  it('names the outputs a stack lacks (deployed by an older version)', async () => {
    const old = join(dir, 'old.json');
    writeFileSync(old, JSON.stringify({ bigqueryDataset: 'crypto_market' }));
    const { code, text } = await check(['--outputs', old]);
    expect(code).toBe(1);
    expect(text).toMatch(/stack outputs missing or invalid: gcpProject, region/);
  });

  it('refuses to run without a stack', async () => {
    expect((await check([])).code).toBe(2);
  });
});

describe('cloud-check never hangs', () => {
  it('times out an API that does not answer', async () => {
    healthy();
    server.first('GET', FN('crypto-dev-extract'), () => new Promise<FakeResponse>(() => undefined));
    const started = Date.now();
    const { code, text } = await check(['--outputs', outputsFile, '--request-timeout', '0.3']);
    expect(code).toBe(1);
    expect(text).toMatch(
      /no answer from http:\/\/127.0.0.1:\d+\/v2\/projects\/acme-2fa-prod\/locations\/us-central1\/functions\/crypto-dev-extract within 0 s/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('times out credentials that never come', async () => {
    const { code, text } = await check(
      ['--outputs', outputsFile, '--request-timeout', '0.2'],
      { getAccessToken: () => new Promise<string>(() => undefined) },
      { CLOUD_CHECK_ACCESS_TOKEN: '' },
    );
    expect(code).toBe(1);
    expect(text).toMatch(/no access token within 0.2 s/);
  });

  it('times out a command (the Pulumi CLI) that does not finish', async () => {
    await expect(execProgram(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], 300)).rejects.toThrow(
      /did not finish within 0.3 s/,
    );
    await expect(execProgram('no-such-program-cloud-check', [], 1000)).rejects.toThrow(/not installed/);
  });
});

describe('progress on a terminal', () => {
  it('draws an ora spinner on a TTY stream and ends with the outcome', async () => {
    const { PassThrough } = await import('node:stream');
    const { startProgress } = await import('../../ops/cloud-check/progress.js');
    // What ora needs of a terminal stream (tty.WriteStream's cursor methods).
    const stream = Object.assign(new PassThrough(), {
      isTTY: true,
      columns: 80,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString()));
    const lines: string[] = [];
    const progress = startProgress({ out: (l) => lines.push(l), stream }, 'waiting');
    progress.update('still waiting');
    progress.succeed('run is in ops_run');
    await new Promise((r) => setImmediate(r));
    // The spinner writes to the stream, not as lines.
    expect(lines).toEqual([]);
    expect(chunks.join('')).toContain('run is in ops_run');
  });
});
