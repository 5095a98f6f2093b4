import { age, clientProgressPrinter, formatCell, table } from '../../../twin/src/cli/output.js';
import { memoryLogger } from '../../support/twin-harness.js';

describe('CLI output', () => {
  it('says when the market client is retrying, and why', () => {
    const logger = memoryLogger();
    const print = clientProgressPrinter(logger);
    print({
      kind: 'retry_scheduled',
      operation: 'markets',
      page: 2,
      attempt: 1,
      delayMs: 3000,
      source: 'retry-after',
      code: 'coingecko_rate_limited',
      reason: 'HTTP 429',
    });
    print({ kind: 'throttle_wait', operation: 'markets', page: 3, waitMs: 200 });
    print({
      kind: 'page_fetched',
      page: 1,
      plannedPages: 2,
      records: 250,
      attempts: 1,
      status: 200,
      durationMs: 80,
    });
    expect(logger.lines).toEqual([
      {
        severity: 'WARNING',
        message: 'CoinGecko page 2: attempt 1 failed (HTTP 429); retrying in 3.0 s as retry-after asks',
      },
      { severity: 'INFO', message: 'CoinGecko page 1/2: 250 records in 80 ms' },
    ]);
  });

  it('renders aligned tables and readable cells', () => {
    expect(
      table([
        { a: 1, bb: 'x' },
        { a: 22.123456789, bb: null },
      ]),
    ).toBe('a          bb\n---------  --\n1          x\n22.123457');
    expect(table([])).toBe('(no rows)');
    expect(formatCell(new Date('2026-11-21T05:00:00Z'))).toBe('2026-11-21T05:00:00Z');
    expect(age(new Date('2026-11-21T05:00:00Z'), new Date('2026-11-21T05:30:00Z'))).toBe('30 min');
  });
});
