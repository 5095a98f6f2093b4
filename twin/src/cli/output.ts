import type { Logger, Severity } from '../../../functions/src/core/logger.js';
import type { ClientProgress } from '../../../functions/src/extract/coingecko-client.js';

/** Human-readable logger for the CLI: warnings and errors to stderr; INFO only with --verbose. */
export function consoleLogger(
  verbose: boolean,
  err: (line: string) => void = (line) => console.error(line),
): Logger {
  return {
    log(severity: Severity, message: string) {
      if (verbose || severity === 'ERROR' || severity === 'WARNING')
        err(`${severity.toLowerCase()}: ${message}`);
    },
  };
}

/**
 * Renders rows as an aligned text table (the CLI's default output; --json prints JSON instead).
 * Number columns are right-aligned so magnitudes line up.
 */
export function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns = Object.keys(rows[0]!);
  const numeric = columns.map((c) =>
    rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === 'number'),
  );
  const cells = rows.map((r) => columns.map((c) => formatCell(r[c])));
  // A loop, not Math.max(...spread): a query may return more rows than the stack has room for.
  const widths = columns.map((c, i) => cells.reduce((w, row) => Math.max(w, row[i]!.length), c.length));
  const line = (values: string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
// Significant digits, never exponent notation: a 2.839e-9 price reads 0.000000002839.
const precise = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 8 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumSignificantDigits: 4 });

/** One value as the tables show it: grouped integers, compact billions, UTC times, plain dates. */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString().replace('.000Z', 'Z');
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return grouped.format(value);
    return Math.abs(value) >= 1e9 ? compact.format(value) : precise.format(value);
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** JSON with Dates as ISO strings and BigInts as strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

/** "3 minutes ago"-style age for freshness lines. */
export function age(from: Date, now: Date): string {
  const s = Math.round((now.getTime() - from.getTime()) / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

/**
 * Shows the market client's progress: retries (and long throttle waits) as warnings, so a run that
 * is waiting on a rate limit or a network problem says so instead of sitting silent; pages with
 * --verbose.
 */
export function clientProgressPrinter(logger: Logger): (event: ClientProgress) => void {
  return (event) => {
    const page = 'page' in event && event.page !== undefined ? ` page ${event.page}` : '';
    switch (event.kind) {
      case 'retry_scheduled':
        logger.log(
          'WARNING',
          `CoinGecko${page}: attempt ${event.attempt} failed (${event.reason}); retrying in ${(event.delayMs / 1000).toFixed(1)} s` +
            (event.source === 'retry-after' ? ' as retry-after asks' : ''),
        );
        return;
      case 'throttle_wait':
        if (event.waitMs >= 1000) {
          logger.log(
            'INFO',
            `CoinGecko${page}: waiting ${(event.waitMs / 1000).toFixed(1)} s for the plan's rate limit`,
          );
        }
        return;
      case 'page_fetched':
        logger.log(
          'INFO',
          `CoinGecko page ${event.page}/${event.plannedPages}: ${event.records} records in ${event.durationMs} ms`,
        );
        return;
      case 'ping_ok':
        return;
    }
  };
}
