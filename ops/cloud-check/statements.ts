import {
  queryParameters,
  type ParamValue,
  type QueryParameter,
} from '../../functions/src/adapters/gcp/bigquery-rows.js';
import {
  ddlFile,
  MERGE_STAGING_TABLES,
  SQL_PARAMETERS,
  VIEW_FILES,
  type StagingPlaceholder,
} from '../../functions/src/schema/bigquery-schema.js';
import { TABLES, type ColumnType } from '../../functions/src/schema/tables.js';
import { readSql, renderSql, type SqlName } from '../../functions/src/sql/sql-files.js';

/** A BigQuery statement as the deployment runs it: rendered for the stack, with its parameters. */
export interface CheckStatement {
  /** The file under sql/ it comes from. */
  file: string;
  sql: string;
  parameters: QueryParameter[];
}

/** Every file whose statements the deployment runs: the DDL, the scripts with parameters, the views. */
export function statementFiles(): string[] {
  return [...TABLES.map(ddlFile), ...Object.keys(SQL_PARAMETERS), ...VIEW_FILES];
}

/** A value of each type, for a dry run (BigQuery checks types, not values). */
function sampleValue(type: ColumnType, now: Date): ParamValue {
  switch (type) {
    case 'STRING':
      return 'cloud-check';
    case 'INT64':
    case 'FLOAT64':
      return 0;
    case 'BOOL':
      return false;
    case 'DATE':
      return now.toISOString().slice(0, 10);
    case 'TIMESTAMP':
      return now;
  }
}

/** The named parameters of `file` with sample values of their declared types. */
export function sampleParameters(file: string, now: Date): QueryParameter[] {
  const types: Readonly<Record<string, ColumnType>> =
    (SQL_PARAMETERS as Readonly<Record<string, Readonly<Record<string, ColumnType>>>>)[file] ?? {};
  const values = Object.fromEntries(
    Object.entries(types).map(([name, type]) => [name, sampleValue(type, now)]),
  );
  return queryParameters(types, values);
}

/**
 * Every statement rendered for `project`.`dataset`, the load script reading `staging` (tables with
 * the columns of the tables they feed, as the load's staging tables have).
 */
export function checkStatements(
  project: string,
  dataset: string,
  staging: Readonly<Record<StagingPlaceholder, string>>,
  now: Date,
): CheckStatement[] {
  const names: Record<string, SqlName> = { dataset: [project, dataset], ...staging };
  return statementFiles().map((file) => ({
    file,
    sql: renderSql(readSql(file), names),
    parameters: sampleParameters(file, now),
  }));
}

/** The staging placeholders and the schema each staging table has. */
export const STAGING_TABLES = MERGE_STAGING_TABLES;
