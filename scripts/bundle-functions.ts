/**
 * Bundles the Cloud Functions source: `npx tsx scripts/bundle-functions.ts [--out dist/functions]`.
 * Writes index.js (esbuild, ESM, node22), package.json (the external Functions Framework and Pub/Sub packages at the
 * lockfile's versions) and sql/, then prints the content hash that names the uploaded archive.
 * Cloud Build runs it as its own step; `pulumi up` then deploys that directory
 * (config functionsBundleDir), or bundles by itself when the key is unset. See infra/bundle.ts.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleFunctions, REPO_ROOT } from '../infra/bundle.js';

const { values } = parseArgs({
  options: { out: { type: 'string', default: join(REPO_ROOT, 'dist', 'functions') } },
});
const bundle = await bundleFunctions({ outDir: values.out! });
console.log(`bundled ${bundle.files.length} files into ${bundle.dir}`);
console.log(`content hash ${bundle.hash}`);
