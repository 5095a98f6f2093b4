import type { QualitySeverity } from '../../../functions/src/quality/checks.js';
import type { DuckDbWarehouse } from '../adapters/duckdb-warehouse.js';
import type { Gaps } from '../schedule-gaps.js';

/** A failed or warned check, as `status` shows it (camelCase: part of `status --json`). */
export interface QualityIssue {
  /** The run checked; null for the schedule's gaps, which belong to no run. */
  runId: string | null;
  checkName: string;
  severity: QualitySeverity;
  observed: number | null;
  expected: number | null;
  message: string;
  checkedAt: Date;
}

/** The `quality` part of `status`: the failed checks of the recent runs, and the schedule's gaps. */
export interface QualityReport {
  /** Recent runs (the same ten `status` lists) that have quality checks recorded. */
  runsChecked: number;
  errors: number;
  warnings: number;
  /** Newest run first; in a run, errors before warnings; the schedule's gaps first of all. */
  issues: QualityIssue[];
}

/**
 * False for a warehouse created before the quality checks and opened read-only (`status` on a
 * data folder no load has touched since): any load creates the table.
 */
export async function hasQualityTable(warehouse: DuckDbWarehouse): Promise<boolean> {
  const [table] = await warehouse.query(
    `select count(*) as n from duckdb_tables() where table_name = 'ops_quality_check'`,
  );
  return Number(table?.n ?? 0) > 0;
}

/** How many of the newest runs `status` looks at, as for its list of recent runs. */
export const RECENT_RUNS = 10;

/**
 * Reads the quality report: failed checks of the newest runs from ops_quality_check, plus the
 * schedule's missing slots as a `schedule_gaps` warning (issue 11 puts gaps among the quality
 * checks; they are computed when asked, since a missing run has nobody to record it). Null for a
 * warehouse from before the quality checks, opened read-only (the next load adds the table).
 */
export async function readQualityReport(
  warehouse: DuckDbWarehouse,
  gaps: Gaps | null,
  now: Date,
): Promise<QualityReport | null> {
  if (!(await hasQualityTable(warehouse))) return null;
  const recent = `recent as (
    select r.run_id, r.slot_ts from ops_run as r order by r.slot_ts desc, r.run_id desc limit ${RECENT_RUNS}
  )`;
  const [checked] = await warehouse.query(`
    with ${recent}
    select count(distinct q.run_id) as runs
    from ops_quality_check as q
    join recent as r on r.run_id = q.run_id`);
  const rows = await warehouse.query(`
    with ${recent}
    select q.run_id, q.check_name, q.severity, q.observed, q.expected, q.message, q.checked_at
    from ops_quality_check as q
    join recent as r on r.run_id = q.run_id
    where q.status = 'fail'
    order by r.slot_ts desc, q.run_id desc, case q.severity when 'error' then 0 else 1 end, q.check_name`);
  const issues: QualityIssue[] = rows.map((r) => ({
    runId: r.run_id as string,
    checkName: r.check_name as string,
    severity: r.severity === 'error' ? 'error' : 'warning',
    observed: r.observed as number | null,
    expected: r.expected as number | null,
    message: r.message as string,
    checkedAt: r.checked_at as Date,
  }));
  if (gaps !== null && gaps.missingSlots > 0) {
    issues.unshift({
      runId: null,
      checkName: 'schedule_gaps',
      severity: 'warning',
      observed: gaps.missingSlots,
      expected: 0,
      message:
        `${gaps.missingSlots} of ${gaps.expectedSlots} slot(s) of "${gaps.schedule}" since ${gaps.from} ` +
        `have no run (newest: ${gaps.recent.join(', ')})`,
      checkedAt: now,
    });
  }
  return {
    runsChecked: Number(checked?.runs ?? 0),
    errors: issues.filter((i) => i.severity === 'error').length,
    warnings: issues.filter((i) => i.severity === 'warning').length,
    issues,
  };
}

/** The readable `quality` section of `status`: a headline, then one line per issue. */
export function describeQuality(report: QualityReport | null): string[] {
  if (report === null) {
    return ['quality: not recorded in this warehouse yet (the next load adds ops_quality_check)'];
  }
  const scope = `the last ${report.runsChecked} run(s) checked`;
  if (report.issues.length === 0) {
    return [
      report.runsChecked === 0 ? 'quality: no run checked yet' : `quality: every check passed in ${scope}`,
    ];
  }
  const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const width = Math.max(...report.issues.map((i) => (i.runId ?? '(schedule)').length));
  return [
    `quality: ${count(report.errors, 'error')}, ${count(report.warnings, 'warning')} in ${scope}`,
    ...report.issues.map(
      (i) =>
        `  ${i.severity.toUpperCase().padEnd(7)} ${(i.runId ?? '(schedule)').padEnd(width)}  ${i.checkName}: ${i.message}`,
    ),
  ];
}
