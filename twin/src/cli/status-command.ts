import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineConfig } from '../../../functions/src/config.js';
import { DuckDbWarehouse } from '../adapters/duckdb-warehouse.js';
import { twinPaths } from '../twin.js';
import { age, table, toJson } from './output.js';

async function countFiles(dir: string): Promise<number> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith('.json')).length;
  } catch {
    return 0;
  }
}

/** `crypto-pipeline status`: recent runs, row counts, freshness, undelivered and dead-lettered events. */
export async function statusCommand(
  config: PipelineConfig,
  options: { json: boolean; out: (line: string) => void; now?: Date },
): Promise<number> {
  const paths = twinPaths(config.dataDir);
  const warehouse = await DuckDbWarehouse.openReadOnly(paths.warehouse);
  try {
    const counts = (
      await warehouse.query(`
        select 'fact_market_snapshot' as table_name, count(*) as row_count from fact_market_snapshot
        union all select 'dim_asset', count(*) from dim_asset
        union all select 'dim_date', count(*) from dim_date
        union all select 'ops_run', count(*) from ops_run
        union all select 'ops_rejected_record', count(*) from ops_rejected_record`)
    ).map((r) => ({ table: r.table_name, rows: r.row_count }));
    const runs = await warehouse.query(`
      select run_id, status, records_in as "in", records_loaded as loaded, records_rejected as rejected,
             coalesce(error_code, '') as error
      from ops_run order by slot_ts desc, run_id desc limit 10`);
    const [summary] = await warehouse.query(`
      select count(*) filter (where status = 'loaded') as loaded_runs,
             count(*) filter (where status = 'failed') as failed_runs,
             max(slot_ts) filter (where status = 'loaded') as newest_slot
      from ops_run`);
    const newest = summary?.newest_slot instanceof Date ? summary.newest_slot : null;
    const now = options.now ?? new Date();
    const events = {
      pending: await countFiles(join(paths.pubsub, 'pending')),
      deadLettered: await countFiles(join(paths.pubsub, 'dead-letter')),
    };
    if (options.json) {
      options.out(toJson({ dataDir: config.dataDir, tables: counts, recentRuns: runs, ...summary, events }));
      return 0;
    }
    options.out(`data dir: ${config.dataDir}`);
    options.out(
      newest
        ? `freshness: newest loaded slot ${newest.toISOString()} (${age(newest, now)} ago)`
        : 'freshness: nothing loaded yet',
    );
    options.out(`runs: ${summary?.loaded_runs ?? 0} loaded, ${summary?.failed_runs ?? 0} failed`);
    options.out(
      `events: ${events.pending} pending, ${events.deadLettered} dead-lettered${events.deadLettered ? ' (crypto-pipeline redrive)' : ''}`,
    );
    options.out('');
    options.out(table(counts));
    options.out('');
    options.out('recent runs:');
    options.out(table(runs));
    return 0;
  } finally {
    await warehouse.close();
  }
}

/** `crypto-pipeline query "SQL"`: read-only SQL on the local warehouse. */
export async function queryCommand(
  config: PipelineConfig,
  sql: string,
  options: { json: boolean; out: (line: string) => void },
): Promise<number> {
  const warehouse = await DuckDbWarehouse.openReadOnly(twinPaths(config.dataDir).warehouse);
  try {
    const rows = await warehouse.query(sql);
    options.out(options.json ? toJson(rows) : table(rows));
    return 0;
  } finally {
    await warehouse.close();
  }
}
