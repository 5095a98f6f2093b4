// Compiles the CLI to plain JavaScript (dist/cli/crypto-pipeline.js) so that a command does not pay
// for transpiling TypeScript at every call. `npm ci` runs it (package.json `prepare`); so does
// `npm run build`. Packages stay external: they resolve from node_modules, as under tsx. Code
// splitting keeps each command's dynamic import a chunk of its own, so `status` loads no pipeline.
// Plain JavaScript on purpose: it runs before anything is compiled.
import { fileURLToPath, URL } from 'node:url';

// esbuild is a devDependency: an install without them (npm ci --omit=dev) still works, and
// bin/crypto-pipeline.js runs the sources through tsx.
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('note: esbuild is not installed; the CLI will run its TypeScript sources through tsx');
  process.exit(0);
}

const result = await esbuild.build({
  // From the repository root whatever the caller's folder (npm runs scripts there; tests may not).
  absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
  entryPoints: ['twin/src/cli/crypto-pipeline.ts'],
  outdir: 'dist/cli',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
const inputs = Object.keys(result.metafile.inputs).length;
console.log(`built dist/cli/crypto-pipeline.js from ${inputs} modules`);
