import type { Logger, Severity } from '../../../functions/src/core/logger.js';
import type { ClientProgress } from '../../../functions/src/extract/coingecko-client.js';

/** Human-readable logger for the CLI: warnings and errors to stderr; INFO only with --verbose. */
export function consoleLogger(verbose: boolean): Logger {
  return {
    log(severity: Severity, message: string) {
      if (severity === 'ERROR' || severity === 'WARNING')
        console.error(`${severity.toLowerCase()}: ${message}`);
      else if (verbose) console.error(`${severity.toLowerCase()}: ${message}`);
    },
  };
}

/** Renders rows as an aligned text table (the CLI's default output; --json prints JSON instead). */
export function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((r) => columns.map((c) => formatCell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString().replace('.000Z', 'Z');
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(8)));
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
