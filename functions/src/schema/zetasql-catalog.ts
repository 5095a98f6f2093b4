// Types only: the ZetaSQL package is a dev dependency (the SQL tests run its server); nothing of it
// is bundled into the functions.
import type { LanguageOptionsProto } from '@fivetrandevelopers/zetasql/lib/types/zetasql/LanguageOptionsProto.js';
import type { SimpleCatalogProto } from '@fivetrandevelopers/zetasql/lib/types/zetasql/SimpleCatalogProto.js';
import type { SimpleConstantProto } from '@fivetrandevelopers/zetasql/lib/types/zetasql/SimpleConstantProto.js';
import type { SimpleTableProto } from '@fivetrandevelopers/zetasql/lib/types/zetasql/SimpleTableProto.js';
import type { TypeProto } from '@fivetrandevelopers/zetasql/lib/types/zetasql/TypeProto.js';
import type { ValueProto } from '@fivetrandevelopers/zetasql/lib/types/zetasql/ValueProto.js';
import { TABLES, type ColumnType, type TableDef } from './tables.js';

/**
 * The ZetaSQL catalog the BigQuery SQL is analysed against, generated from the schema source of
 * truth: a wrong column, type or table name in sql/ fails analysis instead of failing in BigQuery.
 */

/** ZetaSQL type kinds of the schema's column types (names of zetasql.TypeKind). */
export const ZETASQL_TYPE_KIND = {
  STRING: 'TYPE_STRING',
  INT64: 'TYPE_INT64',
  FLOAT64: 'TYPE_DOUBLE',
  BOOL: 'TYPE_BOOL',
  DATE: 'TYPE_DATE',
  TIMESTAMP: 'TYPE_TIMESTAMP',
} as const satisfies Record<ColumnType, string>;

/** The ZetaSQL type of a column type. */
export function zetaSqlType(type: ColumnType): TypeProto {
  return { typeKind: ZETASQL_TYPE_KIND[type] };
}

/** A value of each type, for catalog constants (ZetaSQL needs one; analysis never reads it). */
function placeholderValue(type: ColumnType): ValueProto {
  switch (type) {
    case 'STRING':
      return { stringValue: '' };
    case 'INT64':
      return { int64Value: 0 };
    case 'FLOAT64':
      return { doubleValue: 0 };
    case 'BOOL':
      return { boolValue: false };
    case 'DATE':
      return { dateValue: 0 };
    case 'TIMESTAMP':
      return { timestampValue: { seconds: 0, nanos: 0 } };
  }
}

/** A table of the catalog named `name`, with the columns (names and types) of `table`. */
export function zetaSqlTable(name: string, table: TableDef): SimpleTableProto {
  return {
    name,
    column: table.columns.map((c) => ({ name: c.name, type: zetaSqlType(c.type) })),
  };
}

export interface ZetaSqlCatalogOptions {
  /**
   * Dataset the SQL names its tables in (`<dataset>.<table>`): a name, or a path such as
   * `[project, dataset]` (parts, because a domain-scoped project id holds a dot).
   */
  dataset: string | readonly string[];
  /** The schema; a test passes an altered copy to prove analysis catches the change. */
  tables?: readonly TableDef[];
  /**
   * More tables in the dataset that have the columns of one of `tables`, by name: the per-run
   * staging tables of load/merge_run.sql, e.g. `{ stg_fact_x: 'fact_market_snapshot' }`.
   */
  likeTables?: Readonly<Record<string, string>>;
  /** Language options, so the built-in functions match the features the analyser enables. */
  languageOptions?: LanguageOptionsProto;
  /**
   * Named constants, visible as bare identifiers: how a script's variables (DECLARE) are made
   * known when its statements are analysed one by one.
   */
  constants?: Readonly<Record<string, ColumnType>>;
}

/**
 * The SimpleCatalog for `options.dataset`: every table of the schema under `<dataset>.<table>`,
 * the `likeTables`, the built-in functions and the constants.
 */
export function zetaSqlCatalog(options: ZetaSqlCatalogOptions): SimpleCatalogProto {
  const tables = options.tables ?? TABLES;
  const byName = new Map(tables.map((t) => [t.name, t]));
  const datasetTables = tables.map((t) => zetaSqlTable(t.name, t));
  for (const [name, like] of Object.entries(options.likeTables ?? {})) {
    const table = byName.get(like);
    if (table === undefined) throw new Error(`catalog table ${name}: no table ${like} in the schema`);
    datasetTables.push(zetaSqlTable(name, table));
  }
  // `a.b.c` is looked up as catalog a, catalog b, table c: nest one catalog per path segment.
  const path = typeof options.dataset === 'string' ? [options.dataset] : [...options.dataset];
  let nested: SimpleCatalogProto = { name: path[path.length - 1], table: datasetTables };
  for (const segment of path.slice(0, -1).reverse()) nested = { name: segment, catalog: [nested] };

  const constant: SimpleConstantProto[] = Object.entries(options.constants ?? {}).map(([name, type]) => ({
    namePath: [name],
    type: zetaSqlType(type),
    value: placeholderValue(type),
  }));
  return {
    name: 'root',
    catalog: [nested],
    constant,
    builtinFunctionOptions: { languageOptions: options.languageOptions ?? {} },
  };
}
