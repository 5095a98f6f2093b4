import { shortHash } from '../../core/stable-key.js';
import { LoadError } from '../../load/errors.js';
import type { ColumnType, TableDef } from '../../schema/tables.js';

/**
 * Value encoding between the pipeline's rows and BigQuery's REST API: NDJSON for load jobs, named
 * query parameters for scripts, and the `f`/`v` rows of `jobs.getQueryResults`.
 */

/**
 * Columns stamped with the time of the delivery that computed them. They differ between two
 * deliveries of the same run, so they are left out of the fingerprint that names the merge job:
 * a redelivery then finds the earlier delivery's job instead of running the script again.
 */
export const DELIVERY_TIME_COLUMNS: ReadonlySet<string> = new Set(['loaded_at', 'rejected_at']);

export interface StagingPayload {
  /** Newline-delimited JSON, one row per line, in column order. */
  body: Buffer;
  rows: number;
  /** Hash of the exact bytes: names the load job, so each distinct upload gets its own job. */
  contentHash: string;
  /** Hash without delivery-time columns: the same for every delivery of the same data. */
  stableHash: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A cell as BigQuery's JSON load reads it: TIMESTAMP as an RFC 3339 UTC string, DATE as
 * YYYY-MM-DD, INT64 as a JSON number (keys are 53-bit, exact in JSON), FLOAT64 as a finite number.
 * Anything else is a bug upstream, reported before the load job could fail on it with a vaguer
 * message.
 */
function cell(type: ColumnType, value: unknown): unknown {
  switch (type) {
    case 'STRING':
      return typeof value === 'string' ? value : undefined;
    case 'INT64':
      return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
    case 'FLOAT64':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'BOOL':
      return typeof value === 'boolean' ? value : undefined;
    case 'DATE':
      return typeof value === 'string' && DATE.test(value) ? value : undefined;
    case 'TIMESTAMP':
      return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : undefined;
  }
}

/** Serialises rows of `table` for a NEWLINE_DELIMITED_JSON load job with that table's schema. */
export function stagingPayload(table: TableDef, rows: readonly object[]): StagingPayload {
  const lines: string[] = [];
  const stableLines: string[] = [];
  rows.forEach((row, index) => {
    const source = row as Record<string, unknown>;
    const encoded: Record<string, unknown> = {};
    const stable: Record<string, unknown> = {};
    for (const column of table.columns) {
      const value = source[column.name] ?? null;
      let out: unknown = null;
      if (value !== null) {
        out = cell(column.type, value);
        if (out === undefined) {
          throw new LoadError(
            `${table.name} row ${index}: ${column.name} is not a valid ${column.type}: ${String(value)}`,
            {
              code: 'staging_row_invalid',
              retryable: false,
              details: { table: table.name, column: column.name, index },
            },
          );
        }
      } else if (column.required === true) {
        throw new LoadError(`${table.name} row ${index}: required column ${column.name} is null`, {
          code: 'staging_row_invalid',
          retryable: false,
          details: { table: table.name, column: column.name, index },
        });
      }
      encoded[column.name] = out;
      if (!DELIVERY_TIME_COLUMNS.has(column.name)) stable[column.name] = out;
    }
    lines.push(JSON.stringify(encoded));
    stableLines.push(JSON.stringify(stable));
  });
  const text = lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  return {
    body: Buffer.from(text, 'utf8'),
    rows: rows.length,
    contentHash: shortHash(table.name, text),
    stableHash: shortHash(table.name, ...stableLines),
  };
}

/** A named query parameter value; null is sent as a typed NULL. */
export type ParamValue = string | number | boolean | Date | null;

/** `configuration.query.queryParameters[]` of the REST API. */
export interface QueryParameter {
  name: string;
  parameterType: { type: ColumnType };
  parameterValue: { value?: string };
}

/**
 * Encodes named parameters with their declared types (from bigquery-schema.ts). Values go as
 * strings, as the REST API defines them; a NULL is a parameter without a value.
 */
export function queryParameters(
  types: Readonly<Record<string, ColumnType>>,
  values: Readonly<Record<string, ParamValue>>,
): QueryParameter[] {
  const invalid = (message: string) =>
    new LoadError(message, { code: 'query_parameter_invalid', retryable: false });
  const extra = Object.keys(values).filter((k) => !(k in types));
  if (extra.length > 0) throw invalid(`undeclared query parameters: ${extra.join(', ')}`);
  return Object.entries(types).map(([name, type]) => {
    if (!(name in values)) throw invalid(`query parameter @${name} has no value`);
    const value = values[name] ?? null;
    if (value === null) return { name, parameterType: { type }, parameterValue: {} };
    const encoded = cell(type, value);
    if (encoded === undefined)
      throw invalid(`query parameter @${name} is not a valid ${type}: ${String(value)}`);
    return { name, parameterType: { type }, parameterValue: { value: String(encoded) } };
  });
}

/** The part of a `jobs.getQueryResults` answer that carries rows. */
export interface QueryResultsResponse {
  jobComplete?: boolean;
  schema?: { fields?: { name: string; type: string }[] };
  rows?: { f?: { v?: unknown }[] }[];
}

/**
 * Decodes `f`/`v` rows by the result schema. TIMESTAMP arrives as int64 microseconds (asked for
 * with `formatOptions.useInt64Timestamp`, exact) or, from older paths, float seconds.
 */
export function decodeRows(response: QueryResultsResponse): Record<string, unknown>[] {
  const fields = response.schema?.fields ?? [];
  return (response.rows ?? []).map((row) => {
    const out: Record<string, unknown> = {};
    fields.forEach((field, i) => {
      const v = row.f?.[i]?.v;
      out[field.name] = v === null || v === undefined ? null : decodeValue(field.type, String(v));
    });
    return out;
  });
}

function decodeValue(type: string, v: string): unknown {
  switch (type) {
    case 'INTEGER':
    case 'INT64':
    case 'FLOAT':
    case 'FLOAT64':
      return Number(v);
    case 'BOOLEAN':
    case 'BOOL':
      return v === 'true';
    case 'TIMESTAMP':
      return /^-?\d+$/.test(v) ? new Date(Number(BigInt(v) / 1000n)) : new Date(Number(v) * 1000);
    default:
      return v;
  }
}
