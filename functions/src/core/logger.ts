/**
 * Structured logging. In Cloud Functions one JSON object per line on stdout becomes a Cloud Logging
 * entry with `severity` (and log-based metrics/alerts key off `code`); the twin's CLI passes its own
 * human-readable logger.
 */
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type LogFields = Record<string, unknown>;

export interface Logger {
  log(severity: Severity, message: string, fields?: LogFields): void;
}

export const jsonLogger: Logger = {
  log(severity, message, fields = {}) {
    const line = JSON.stringify({ severity, message, ...fields, time: new Date().toISOString() });
    if (severity === 'ERROR' || severity === 'WARNING') console.error(line);
    else console.log(line);
  },
};

export const silentLogger: Logger = { log() {} };
