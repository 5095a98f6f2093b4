import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * BigQuery SQL lives in the repository's `sql/` folder, one statement's purpose per file. In the
 * repository this module sits at functions/src/sql/; in the deployed bundle the folder is copied
 * next to the bundle, so both layouts are looked up (or PIPELINE_SQL_DIR, for tools).
 */
function findSqlDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    process.env.PIPELINE_SQL_DIR,
    join(here, 'sql'), // bundled: dist/functions/index.js + dist/functions/sql/
    join(here, '..', '..', '..', 'sql'), // repository: functions/src/sql/ -> sql/
  ].filter((c): c is string => c !== undefined && c !== '');
  const found = candidates.find((c) => existsSync(join(c, 'load')));
  if (!found) throw new Error(`cannot find the sql/ folder; looked in: ${candidates.join(', ')}`);
  return found;
}

let sqlDir: string | undefined;
const cache = new Map<string, string>();

/** Reads a file below `sql/`, e.g. `load/merge_run.sql` (cached: SQL never changes at run time). */
export function readSql(relativePath: string): string {
  let text = cache.get(relativePath);
  if (text === undefined) {
    sqlDir ??= findSqlDir();
    text = readFileSync(join(sqlDir, relativePath), 'utf8');
    cache.set(relativePath, text);
  }
  return text;
}

const IDENTIFIER = /^[A-Za-z0-9_\-.]+$/;

/**
 * Fills `{{name}}` placeholders with identifiers (project, dataset, table names). Values are never
 * spliced: they travel as named query parameters. Identifiers are checked so nothing else can be.
 */
export function renderSql(sql: string, identifiers: Record<string, string>): string {
  return sql.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, name: string) => {
    const value = identifiers[name];
    if (value === undefined) throw new Error(`SQL placeholder {{${name}}} has no value`);
    if (!IDENTIFIER.test(value))
      throw new Error(`not a safe identifier for {{${name}}}: ${JSON.stringify(value)}`);
    return value;
  });
}
