/**
 * Rewrites sql/ddl/ from the schema source of truth: `npx tsx scripts/generate-ddl.ts`.
 * tests/sql/ddl-files.test.ts fails while the files and functions/src/schema/tables.ts disagree.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedDdlFiles } from '../functions/src/schema/bigquery-schema.js';

const sqlDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'sql');
const files = generatedDdlFiles();
mkdirSync(join(sqlDir, 'ddl'), { recursive: true });
for (const stale of readdirSync(join(sqlDir, 'ddl'))) {
  if (!files.has(`ddl/${stale}`)) {
    rmSync(join(sqlDir, 'ddl', stale));
    console.log(`removed sql/ddl/${stale}`);
  }
}
for (const [file, text] of files) {
  writeFileSync(join(sqlDir, file), text);
  console.log(`wrote sql/${file}`);
}
