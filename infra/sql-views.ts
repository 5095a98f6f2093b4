import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VIEW_FILES } from '../functions/src/schema/bigquery-schema.js';
import { renderSql } from '../functions/src/sql/sql-files.js';

/** A view as Pulumi creates it: a table with a query, not a DDL statement. */
export interface ViewDef {
  name: string;
  description: string;
  /** The SELECT, with `{{dataset}}` filled. */
  query: string;
  /** Tables and views of the dataset this one reads, which must exist first (BigQuery checks a view's query on create). */
  reads: string[];
}

const HEADER =
  /^create\s+or\s+replace\s+view\s+\{\{\s*dataset\s*\}\}\.([a-z_][a-z0-9_]*)\s*(?:options\s*\((?:[^()]|\([^()]*\))*\)\s*)?as\s+/i;

/**
 * Splits one sql/views file (`create or replace view {{dataset}}.<name> as <query>`, with leading
 * `--` comments) into the view's name, its description (the comments) and its query, with
 * `{{dataset}}` qualified by the project so the view resolves the same from any billing project
 * (Looker Studio queries from the viewer's), each part backtick-quoted (renderSql) so that project
 * ids such as `acme-2fa-prod` or `example.com:proj` work. The view name must equal the file name.
 */
export function parseViewSql(file: string, text: string, project: string, dataset: string): ViewDef {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const comments: string[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.startsWith('--')) comments.push(line.replace(/^--\s?/, ''));
    else if (line !== '') break;
  }
  const statement = lines.slice(i).join('\n').trim().replace(/;\s*$/, '');
  const header = HEADER.exec(statement);
  if (!header) throw new Error(`${file}: expected 'create or replace view {{dataset}}.<name> as ...'`);
  const name = header[1]!;
  const expected = file.replace(/^.*\//, '').replace(/\.sql$/, '');
  if (name !== expected)
    throw new Error(`${file}: creates view ${name}, but the file is named for ${expected}`);
  const body = statement.slice(header[0].length);
  if (body.includes(';')) {
    const stripped = body.replace(/--[^\n]*/g, '').replace(/'(?:\\.|[^'\\])*'/g, "''");
    if (stripped.includes(';')) throw new Error(`${file}: a view file holds one statement`);
  }
  const references = [...body.matchAll(/\{\{\s*dataset\s*\}\}\.([a-z_][a-z0-9_]*)/gi)].map((m) => m[1]!);
  return {
    name,
    description: comments
      .join('\n')
      .replace(/\n{2,}/g, '\n\n')
      .trim(),
    query: renderSql(body, { dataset: [project, dataset] }),
    reads: [...new Set(references)].filter((r) => r !== name),
  };
}

/**
 * Every view under `<sqlDir>/views`, in the order VIEW_FILES gives (one in which each can be
 * created); a file missing from that list is an error rather than silently skipped.
 */
export function loadViews(sqlDir: string, project: string, dataset: string): ViewDef[] {
  const dir = join(sqlDir, 'views');
  const present = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.sql'))
        .map((f) => `views/${f}`)
    : [];
  const listed = new Set<string>(VIEW_FILES);
  const unlisted = present.filter((f) => !listed.has(f));
  if (unlisted.length > 0)
    throw new Error(`views not in VIEW_FILES (bigquery-schema.ts): ${unlisted.join(', ')}`);
  return VIEW_FILES.filter((f) => present.includes(f)).map((f) =>
    parseViewSql(f, readFileSync(join(sqlDir, f), 'utf8'), project, dataset),
  );
}
