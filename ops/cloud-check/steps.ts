import { randomBytes } from 'node:crypto';
import { queryParameters } from '../../functions/src/adapters/gcp/bigquery-rows.js';
import type { StagingPlaceholder } from '../../functions/src/schema/bigquery-schema.js';
import { readSql, renderSql } from '../../functions/src/sql/sql-files.js';
import type { BigQueryApi } from './bigquery-api.js';
import { explain } from './diagnose.js';
import { GoogleApiError, RequestTimeoutError } from '../../functions/src/adapters/gcp/google-rest.js';
import { buildLogUrl, functionLogUrl, type PlatformApi } from './platform-api.js';
import { startProgress, type CloudCheckIo } from './progress.js';
import { NEEDS, type Report } from './report.js';
import type { StackOutputs } from './stack-outputs.js';
import { checkStatements, STAGING_TABLES } from './statements.js';

/** The steps of cloud-check, in the order cloudCheckCommand runs them; each reports its outcome. */

/** How long to wait for the run, how often to look, and the clock to do it by. */
export interface WaitOptions {
  waitMs: number;
  pollMs: number;
  requestTimeoutMs: number;
  triggeredAt: Date;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
}

/** Both functions are deployed and serving; a failed build points at its log. */
export async function checkFunctions(
  platform: PlatformApi,
  o: StackOutputs,
  report: Report,
): Promise<boolean> {
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
export async function dryRunStatements(
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

export async function trigger(platform: PlatformApi, o: StackOutputs, report: Report): Promise<boolean> {
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
export async function waitForRun(
  bigquery: BigQueryApi,
  o: StackOutputs,
  report: Report,
  io: CloudCheckIo,
  t: WaitOptions,
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

export async function showFreshness(
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

export async function showDeadLetters(
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
