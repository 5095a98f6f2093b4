import type { Logger } from '../core/logger.js';
import type { QualityCheckRow } from '../schema/tables.js';
import { isFailure } from './checks.js';

/**
 * The `code` of a failed check's log entry: the log-based metrics of infra/components/monitoring.ts
 * count entries with this code, by severity (ERROR for integrity, WARNING for suspicious data).
 */
export const QUALITY_CHECK_FAILED = 'quality_check_failed';

/** What a failed check logs besides its message: enough to act on without querying the table. */
export interface QualityFailureFields {
  code: typeof QUALITY_CHECK_FAILED;
  runId: string;
  checkName: string;
  /** Not `severity`: that key of a JSON log line is Cloud Logging's own (ERROR, WARNING). */
  checkSeverity: QualityCheckRow['severity'];
  observed: number | null;
  expected: number | null;
}

/**
 * One structured entry per failed check, with a severity Cloud Logging understands: `ERROR` for
 * an integrity break, `WARNING` for the rest. Returns how many of each were logged.
 */
export function logQualityFailures(
  logger: Logger,
  checks: readonly QualityCheckRow[],
): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const check of checks.filter(isFailure)) {
    const isError = check.severity === 'error';
    if (isError) errors += 1;
    else warnings += 1;
    const fields: QualityFailureFields = {
      code: QUALITY_CHECK_FAILED,
      runId: check.run_id,
      checkName: check.check_name,
      checkSeverity: check.severity,
      observed: check.observed,
      expected: check.expected,
    };
    logger.log(
      isError ? 'ERROR' : 'WARNING',
      `quality check ${check.check_name} failed for ${check.run_id}: ${check.message}`,
      { ...fields },
    );
  }
  return { errors, warnings };
}
