import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The first folder named `relative` in `start` or one of its parents that contains `marker`.
 * Data files (sql/, the dashboard's web/) are found this way rather than at a fixed distance from
 * the module, because the module may be a TypeScript source, a bundle or a bundle's chunk.
 */
export function findUp(start: string, relative: string, marker: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, relative);
    if (existsSync(join(candidate, marker))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}
