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

  it('renders aligned tables with numbers on the right', () => {
    expect(
      table([
        { a: 1, bb: 'x' },
        { a: 22.123456789, bb: null },
      ]),
    ).toBe('        a  bb\n---------  --\n        1  x\n22.123457');
    expect(table([])).toBe('(no rows)');
  });

  it('shows numbers, times and dates as people read them', () => {
    expect(formatCell(1234567)).toBe('1,234,567');
    expect(formatCell(2.839e-9)).toBe('0.000000002839');
    expect(formatCell(97123.456)).toBe('97,123.456');
    expect(formatCell(1_873_456_789_012.5)).toBe('1.873T');
    expect(formatCell(-0.0421)).toBe('-0.0421');
    expect(formatCell(new Date('2026-11-21T05:00:00Z'))).toBe('2026-11-21T05:00:00Z');
    expect(formatCell('2026-11-21')).toBe('2026-11-21');
    expect(age(new Date('2026-11-21T05:00:00Z'), new Date('2026-11-21T05:30:00Z'))).toBe('30 min');
  });
});
