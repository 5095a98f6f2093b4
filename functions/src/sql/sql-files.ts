import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findUp } from '../core/find-up.js';

/**
 * BigQuery SQL lives in the repository's `sql/` folder, one statement's purpose per file. In the
 * repository this module sits at functions/src/sql/; in the deployed bundle the folder is copied
 * next to the bundle, so both layouts are looked up (or PIPELINE_SQL_DIR, for tools).
 */
function findSqlDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const fromEnv = process.env.PIPELINE_SQL_DIR;
  if (fromEnv && existsSync(join(fromEnv, 'load'))) return fromEnv;
  // Bundled: dist/functions/index.js + dist/functions/sql/. Repository: functions/src/sql/ -> sql/,
  // also from the compiled CLI's chunks (dist/cli/chunks/ -> sql/).
  const found = findUp(here, 'sql', 'load');
  if (!found) throw new Error(`cannot find the sql/ folder in ${here} or above (or PIPELINE_SQL_DIR)`);
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

/**
 * A name a `{{placeholder}}` stands for: one identifier (a table), or a path of identifiers, e.g.
 * `[project, dataset]`. A path is given as parts, never as a dotted string, because a project id may
 * itself hold dots (`example.com:proj`) and only the caller knows where its parts end.
 */
export type SqlName = string | readonly string[];

// A project id: [a-z0-9-] starting with a letter (GCP wants 6-30; the length is not checked, it is
// no matter of safety), optionally behind a domain (`example.com:proj`, a domain-scoped project).
const PROJECT_ID = /^(?:[a-z0-9][a-z0-9.-]*[a-z0-9]:)?[a-z](?:[a-z0-9-]{0,28}[a-z0-9])?$/;
// A dataset or table name (BigQuery also allows dashes in table names).
const NAME = /^[A-Za-z0-9_-]+$/;

function quotedPath(placeholder: string, value: SqlName): string {
  const parts = typeof value === 'string' ? [value] : [...value];
  if (parts.length === 0) throw new Error(`SQL placeholder {{${placeholder}}} has an empty path`);
  // In a path of more than one part the first is a project id; every other part is a plain name.
  const bad = parts.find((part, i) => !(i === 0 && parts.length > 1 ? PROJECT_ID : NAME).test(part));
  if (bad !== undefined)
    throw new Error(`not a safe identifier for {{${placeholder}}}: ${JSON.stringify(bad)}`);
  // Always quoted: a project id with a dash that follows a digit (`acme-2fa-prod`) or with a domain
  // (`example.com:proj`) is not a valid unquoted identifier, and quoting a plain name is harmless.
  return parts.map((part) => `\`${part}\``).join('.');
}

/**
 * Fills `{{name}}` placeholders with backtick-quoted identifiers (project, dataset, table names).
 * Values are never spliced: they travel as named query parameters. Identifiers are checked so
 * nothing else can be.
 */
export function renderSql(sql: string, identifiers: Readonly<Record<string, SqlName>>): string {
  return sql.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, name: string) => {
    const value = identifiers[name];
    if (value === undefined) throw new Error(`SQL placeholder {{${name}}} has no value`);
    return quotedPath(name, value);
  });
}
