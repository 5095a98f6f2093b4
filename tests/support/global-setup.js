// Builds the compiled CLI before any test runs, so tests that start bin/crypto-pipeline.js run the
// code as it is now, never a build left over from an earlier edit.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function buildCli() {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  execFileSync(process.execPath, [join(root, 'scripts', 'build-cli.mjs')], { cwd: root, stdio: 'ignore' });
}
