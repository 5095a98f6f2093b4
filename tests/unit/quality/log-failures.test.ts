import { jest } from '@jest/globals';
import { jsonLogger } from '../../../functions/src/core/logger.js';
import { logQualityFailures } from '../../../functions/src/quality/log-failures.js';
import type { QualityCheckRow } from '../../../functions/src/schema/tables.js';

const RUN = 'coingecko_usd_20261121T050000Z';
const row = (over: Partial<QualityCheckRow>): QualityCheckRow => ({
  run_id: RUN,
  check_name: 'record_count',
  severity: 'warning',
  status: 'pass',
  observed: 250,
  expected: 250,
  message: '250 of 250 expected coin(s) loaded',
  checked_at: new Date('2026-11-21T05:00:09Z'),
  ...over,
});

describe('failed quality checks in the cloud log', () => {
  test('one JSON entry per failed check, with a severity Cloud Logging understands', () => {
    const lines: string[] = [];
    const spy = jest
      .spyOn(console, 'error')
      .mockImplementation((line: unknown) => void lines.push(String(line)));
    const logOut = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const counts = logQualityFailures(jsonLogger, [
        row({
          check_name: 'asset_dimension',
          severity: 'error',
          status: 'fail',
          observed: 1,
          expected: 0,
          message: '1 fact row(s) without a dim_asset version in effect at their slot',
        }),
        row({}),
        row({
          status: 'fail',
          observed: 0,
          expected: 250,
          message: 'empty response ([]): no coins, 250 expected',
        }),
      ]);
      expect(counts).toEqual({ errors: 1, warnings: 1 });
      expect(logOut).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      logOut.mockRestore();
    }
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toEqual([
      {
        severity: 'ERROR',
        message: `quality check asset_dimension failed for ${RUN}: 1 fact row(s) without a dim_asset version in effect at their slot`,
        code: 'quality_check_failed',
        runId: RUN,
        checkName: 'asset_dimension',
        checkSeverity: 'error',
        observed: 1,
        expected: 0,
        time: expect.any(String),
      },
      {
        severity: 'WARNING',
        message: `quality check record_count failed for ${RUN}: empty response ([]): no coins, 250 expected`,
        code: 'quality_check_failed',
        runId: RUN,
        checkName: 'record_count',
        checkSeverity: 'warning',
        observed: 0,
        expected: 250,
        time: expect.any(String),
      },
    ]);
  });
});
