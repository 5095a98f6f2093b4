import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from './fixtures.js';

/**
 * Compiles a bench child script to plain JavaScript, so the child's time and memory are the
 * program's own, not a TypeScript loader's. Written under node_modules/.cache so that its
 * package imports resolve to the project's node_modules.
 */
export async function compileChild(entry: string): Promise<string> {
  const dir = join(REPO_ROOT, 'node_modules', '.cache', 'cmp-bench');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `${entry.replaceAll(/[/.]/g, '_')}.mjs`);
  await build({
    entryPoints: [join(REPO_ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
  return outfile;
}
