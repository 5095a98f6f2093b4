import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeBackfill, readBackfillStatus } from '../reading/backfill-status.js';
import { describeQuality, hasQualityTable, readQualityReport } from '../reading/quality-report.js';
import { openWarehouseReader, type WarehouseReading } from '../reading/warehouse-reader.js';
import { gapsInWarehouse, type Gaps } from '../schedule-gaps.js';
import { twinPaths } from '../twin-paths.js';
import { age, table, toJson } from './output.js';

export interface ReadOptions {
  json: boolean;
  out: (line: string) => void;
  /** Notes for people (where the data was read from) go to stderr, so stdout stays parseable. */
  note: (line: string) => void;
  now?: Date;
}

async function countFiles(dir: string): Promise<number> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith('.json')).length;
  } catch {
    return 0;
  }
}

/** Opens the warehouse for reading and says so when a running pipeline's copy is what is read. */
async function read<T>(
  dataDir: string,
  options: ReadOptions,
  work: (reading: WarehouseReading) => Promise<T>,
): Promise<T> {
  const reading = await openWarehouseReader(dataDir);
  try {
    if (reading.source === 'snapshot' && reading.snapshotAt) {
      const now = options.now ?? new Date();
      options.note(
        `note: a running pipeline holds the warehouse; reading the copy it published ` +
          `${age(reading.snapshotAt, now)} ago`,
      );
    }
    return await work(reading);
  } finally {
    await reading.close();
  }
}

/**
 * `crypto-pipeline status`: recent runs, row counts, freshness, gaps, undelivered and dead-lettered
 * events, the data-quality checks the recent runs failed, and the backfilled history.
 */
export async function statusCommand(dataDir: string, options: ReadOptions): Promise<number> {
  const paths = twinPaths(dataDir);
  const now = options.now ?? new Date();
  return read(dataDir, options, async ({ warehouse, source, snapshotAt }) => {
    const tables = (
      await warehouse.query(`
        select 'fact_market_snapshot' as table_name, count(*) as row_count from fact_market_snapshot
        union all select 'dim_asset', count(*) from dim_asset
        union all select 'dim_date', count(*) from dim_date
        union all select 'ops_run', count(*) from ops_run
        union all select 'ops_rejected_record', count(*) from ops_rejected_record
        ${(await hasQualityTable(warehouse)) ? "union all select 'ops_quality_check', count(*) from ops_quality_check" : ''}`)
    ).map((r) => ({ table: r.table_name as string, rows: r.row_count as number }));
    const recentRuns = (
      await warehouse.query(`
        select run_id, slot_ts, status, records_in, records_loaded, records_rejected, error_code
        from ops_run order by slot_ts desc, run_id desc limit 10`)
    ).map((r) => ({
      runId: r.run_id as string,
      slotTs: r.slot_ts as Date,
      status: r.status as string,
      recordsIn: r.records_in as number | null,
      recordsLoaded: r.records_loaded as number | null,
      recordsRejected: r.records_rejected as number | null,
      errorCode: (r.error_code as string | null) ?? null,
    }));
    const [summary] = await warehouse.query(`
      select count(*) filter (where status = 'loaded') as loaded,
             count(*) filter (where status = 'failed') as failed,
             max(slot_ts) filter (where status = 'loaded') as newest
      from ops_run`);
    const newest = summary?.newest instanceof Date ? summary.newest : null;
    const currencies = await perCurrency(warehouse, now);
    const gaps = await gapsInWarehouse(warehouse, dataDir, now);
    const quality = await readQualityReport(warehouse, gaps, now);
    const backfill = await readBackfillStatus(warehouse);
    const status = {
      dataDir,
      readFrom: source,
      snapshotAt: snapshotAt ?? null,
      freshness: {
        newestLoadedSlot: newest,
        ageSeconds: newest ? Math.round((now.getTime() - newest.getTime()) / 1000) : null,
      },
      runs: { loaded: Number(summary?.loaded ?? 0), failed: Number(summary?.failed ?? 0) },
      currencies,
      gaps,
      events: {
        pending: await countFiles(join(paths.pubsub, 'pending')),
        deadLettered: await countFiles(join(paths.pubsub, 'dead-letter')),
      },
      tables,
      recentRuns,
      quality,
      backfill,
    };
    if (options.json) {
      options.out(toJson(status));
      return 0;
    }
    const { out } = options;
    out(`data dir: ${dataDir}`);
    out(
      newest
        ? `freshness: newest loaded slot ${newest.toISOString()} (${age(newest, now)} ago)`
        : 'freshness: nothing loaded yet',
    );
    out(`runs: ${status.runs.loaded} loaded, ${status.runs.failed} failed`);
    // One currency says nothing the lines above do not; several each get their own freshness.
    if (currencies.length > 1)
      out(`currencies: ${currencies.map((c) => describeCurrency(c, now)).join('; ')}`);
    out(`gaps: ${describeGaps(gaps)}`);
    const { pending, deadLettered } = status.events;
    out(
      `events: ${pending} pending, ${deadLettered} dead-lettered${deadLettered ? ' (crypto-pipeline redrive)' : ''}`,
    );
    out(describeBackfill(backfill));
    // Quality last before the tables: its lines run up to the blank line that ends the section.
    for (const line of describeQuality(quality)) out(line);
    out('');
    out(table(tables));
    out('');
    out('recent runs:');
    out(table(recentRuns));
    return 0;
  });
}

/** One quote currency's freshness and volume (`status --json` under `currencies`). */
export interface CurrencyStatus {
  vsCurrency: string;
  newestLoadedSlot: Date | null;
  ageSeconds: number | null;
  runsLoaded: number;
  runsFailed: number;
  factRows: number;
}

/** Per currency, from the run table (small) and the fact's row count by currency: one pass each. */
async function perCurrency(
  warehouse: { query(sql: string): Promise<Record<string, unknown>[]> },
  now: Date,
): Promise<CurrencyStatus[]> {
  const rows = await warehouse.query(`
    with runs as (
      select vs_currency,
             max(slot_ts) filter (where status = 'loaded') as newest,
             count(*) filter (where status = 'loaded') as loaded,
             count(*) filter (where status = 'failed') as failed
      from ops_run group by vs_currency
    ), facts as (
      select vs_currency, count(*) as fact_rows from fact_market_snapshot group by vs_currency
    )
    select r.vs_currency, r.newest, r.loaded, r.failed, coalesce(f.fact_rows, 0) as fact_rows
    from runs as r left join facts as f on f.vs_currency = r.vs_currency
    order by r.vs_currency`);
  return rows.map((r) => {
    const newest = r.newest instanceof Date ? r.newest : null;
    return {
      vsCurrency: String(r.vs_currency),
      newestLoadedSlot: newest,
      ageSeconds: newest ? Math.round((now.getTime() - newest.getTime()) / 1000) : null,
      runsLoaded: Number(r.loaded),
      runsFailed: Number(r.failed),
      factRows: Number(r.fact_rows),
    };
  });
}

function describeCurrency(c: CurrencyStatus, now: Date): string {
  const fresh = c.newestLoadedSlot
    ? `newest ${c.newestLoadedSlot.toISOString()} (${age(c.newestLoadedSlot, now)} ago)`
    : 'nothing loaded';
  return `${c.vsCurrency} ${fresh}, ${c.runsLoaded} run(s) loaded, ${c.runsFailed} failed, ${c.factRows} fact rows`;
}

function describeGaps(gaps: Gaps | null): string {
  if (!gaps) return 'not checked (no schedule recorded yet: `start` records the one it keeps)';
  const kept = `"${gaps.schedule}" since ${gaps.from}`;
  if (gaps.missingSlots === 0)
    return `none (every one of the ${gaps.expectedSlots} slot(s) of ${kept} has a run)`;
  return `${gaps.missingSlots} of ${gaps.expectedSlots} slot(s) of ${kept} have no run (newest: ${gaps.recent.join(', ')})`;
}

/** How long `query` lets one statement run before stopping it. */
export const QUERY_TIMEOUT_SECONDS = 60;

/** `crypto-pipeline query "SQL"`: read-only SQL on the local warehouse, locked down and time-limited. */
export async function queryCommand(
  dataDir: string,
  sql: string,
  options: ReadOptions & { timeoutSeconds?: number },
): Promise<number> {
  return read(dataDir, options, async ({ warehouse }) => {
    const timeoutMs = (options.timeoutSeconds ?? QUERY_TIMEOUT_SECONDS) * 1000;
    const rows = await warehouse.query(sql, {}, { timeoutMs });
    options.out(options.json ? toJson(rows) : table(rows));
    return 0;
  });
}
