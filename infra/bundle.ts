import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { build } from 'esbuild';

/**
 * The deployable source of both functions (ARCHITECTURE.md §7.7): one esbuild bundle of
 * functions/src/index.ts, a package.json, and the sql/ folder next to the bundle (where
 * functions/src/sql/sql-files.ts looks for it). Its content hash names the uploaded object, so a code
 * change is a new object and a redeploy, and an unchanged tree redeploys nothing.
 *
 * What stays out of the bundle: the Functions Framework only. It keeps the registered functions
 * in a module-level map, so the copy our code registers with must be the very copy the runtime
 * starts (node_modules); package.json lists it at the lockfile's version, and Cloud Functions'
 * build installs it.
 * Everything else (the Storage and BigQuery clients, got, zod, our code) is bundled, split and
 * minified (issue 12): a cold start reads a few files instead of a few hundred in node_modules,
 * and each function compiles only its own code and the chunks of the clients it builds. The
 * clients only require() their package.json, which esbuild inlines, so nothing drifts at install.
 * Pub/Sub is published to over REST (functions/src/adapters/gcp/pubsub-publisher.ts says why);
 * tests/infra/function-entry.test.ts serves this very bundle against local fakes.
 */
export const EXTERNAL = ['@google-cloud/functions-framework'];
/** The runtime must find this one, whether or not the entry imports it (it is what serves). */
const FRAMEWORK = '@google-cloud/functions-framework';
/** Files a bundle directory may hold; anything else there means it is not ours to overwrite. */
const OWN_ENTRIES = new Set(['index.js', 'package.json', 'sql', 'chunks']);

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BundleOptions {
  /** Output directory; emptied first. */
  outDir: string;
  /** Default functions/src/index.ts. */
  entry?: string;
  /** Default sql/. */
  sqlDir?: string;
  /** Where relative paths resolve and esbuild works from. Default the repository. */
  rootDir?: string;
}

export interface FunctionBundle {
  dir: string;
  /** Relative paths with `/` separators, sorted. */
  files: string[];
  /** sha256 of every file's path and bytes, hex. */
  hash: string;
}

/** Bundles the functions into `outDir` and returns its file list and content hash. */
export async function bundleFunctions(options: BundleOptions): Promise<FunctionBundle> {
  const rootDir = resolve(options.rootDir ?? REPO_ROOT);
  const entry = resolve(rootDir, options.entry ?? 'functions/src/index.ts');
  const sqlDir = resolve(rootDir, options.sqlDir ?? 'sql');
  const outDir = resolve(options.outDir);
  if (!existsSync(entry)) throw new Error(`function entry ${entry} does not exist`);
  if (!existsSync(sqlDir)) throw new Error(`SQL folder ${sqlDir} does not exist`);
  prepareOutDir(outDir);

  const result = await build({
    entryPoints: [entry],
    outdir: outDir,
    entryNames: 'index', // one entry point, whatever its file is called
    // Each function's clients are imported dynamically (functions/src/entry/); split,
    // they land in chunks that only the function using them compiles. One file would make every
    // cold start parse all of it (~125 ms of V8 compile for 2.5 MB before the first answer).
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    absWorkingDir: rootDir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: EXTERNAL,
    alias: {
      'whatwg-url': join(REPO_ROOT, 'infra/bundle-shims/whatwg-url.ts'),
      // got's modules for options the CoinGecko client never sets (got-unused.ts says which).
      'cacheable-request': join(REPO_ROOT, 'infra/bundle-shims/got/cacheable-request.ts'),
      'cacheable-lookup': join(REPO_ROOT, 'infra/bundle-shims/got/cacheable-lookup.ts'),
      'http2-wrapper': join(REPO_ROOT, 'infra/bundle-shims/got/http2-wrapper.ts'),
    },
    // Bundled CommonJS dependencies call require() for Node built-ins; an ES module has none.
    banner: {
      js: [
        "import { createRequire as __createRequire } from 'node:module';",
        'const require = __createRequire(import.meta.url);',
      ].join('\n'),
    },
    legalComments: 'none',
    // Shorter identifiers and syntax: less to read and parse at a cold start. Whitespace is kept
    // (one statement a line, readable stack positions); keepNames keeps class and function names
    // for errors and logs.
    minifyIdentifiers: true,
    minifySyntax: true,
    keepNames: true,
    metafile: true,
    logLevel: 'silent',
  });

  const dependencies: Record<string, string> = {};
  const imported = Object.values(result.metafile.outputs).flatMap((o) => o.imports);
  const packages = new Set([
    FRAMEWORK,
    ...imported
      .filter((i) => i.external && !isBuiltin(i.path))
      .map((i) => packageName(i.path))
      // Bundled packages keep a few optional require()s inside try/catch (node-fetch's
      // `encoding`), which esbuild leaves unresolved; only what we chose to leave out is installed.
      .filter((name) => EXTERNAL.includes(name)),
  ]);
  for (const name of [...packages].sort()) dependencies[name] = installedVersion(name);

  const packageJson = {
    name: 'crypto-market-pipeline-functions',
    private: true,
    type: 'module',
    main: 'index.js',
    engines: { node: '22' },
    dependencies,
  };
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  cpSync(sqlDir, join(outDir, 'sql'), { recursive: true });
  return hashBundleDir(outDir);
}

/**
 * The bundle files a cold start of `target` compiles: `start`, index.js and what it imports
 * statically (before the first request); `firstRequest`, the function's own chunk
 * (`entry/<target>-function.ts`) and every chunk it imports, statically or dynamically (its
 * clients, built on the first request). Paths relative to the bundle, with `/`.
 */
export function filesCompiledAtStart(
  bundle: FunctionBundle,
  target: 'extract' | 'load',
): { start: string[]; firstRequest: string[] } {
  const seen = new Set<string>();
  const visit = (file: string, dynamicToo: boolean) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(bundle.dir, file), 'utf8');
    const specs = [...text.matchAll(/^import\s[^;]*?from\s*["'](\.[^"']+)["']/gm)];
    if (dynamicToo) specs.push(...text.matchAll(/\bimport\(\s*["'](\.[^"']+)["']\s*\)/g));
    for (const [, spec] of specs) {
      const next = join(dirname(file), spec!).split(sep).join('/');
      // Only the bundle's own files: a bundled library may spell an import() inside a string.
      if (bundle.files.includes(next)) visit(next, dynamicToo);
    }
  };
  visit('index.js', false);
  const start = [...seen];
  const own = bundle.files.find((f) => f.startsWith(`chunks/${target}-function-`));
  if (own === undefined) throw new Error(`${bundle.dir} has no chunk for ${target}`);
  visit(own, true);
  return { start, firstRequest: [...seen].filter((f) => !start.includes(f)) };
}

/** Lists and hashes an existing bundle directory (e.g. the one Cloud Build's bundle step wrote). */
export function hashBundleDir(dir: string): FunctionBundle {
  const root = resolve(dir);
  for (const required of ['index.js', 'package.json']) {
    if (!existsSync(join(root, required)))
      throw new Error(`${root} is not a function bundle: ${required} is missing`);
  }
  const files = listFiles(root);
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(root, file)));
    hash.update('\0');
  }
  return { dir: root, files, hash: hash.digest('hex') };
}

/** The bundle as a Pulumi archive (zipped on upload), one asset per file. */
export function bundleArchive(bundle: FunctionBundle): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive(
    Object.fromEntries(bundle.files.map((f) => [f, new pulumi.asset.FileAsset(join(bundle.dir, f))])),
  );
}

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(root, path).split(sep).join('/'));
    }
  };
  walk(root);
  return out.sort();
}

function prepareOutDir(outDir: string): void {
  if (existsSync(outDir)) {
    const foreign = readdirSync(outDir).filter((n) => !OWN_ENTRIES.has(n));
    if (foreign.length > 0) {
      throw new Error(
        `refusing to empty ${outDir}: it holds files a bundle never writes (${foreign.join(', ')})`,
      );
    }
    rmSync(outDir, { recursive: true, force: true });
  }
  mkdirSync(outDir, { recursive: true });
}

/** `@scope/name/sub/path` -> `@scope/name`; `name/sub` -> `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The version the lockfile installed in the repository, so the cloud runs what the tests ran. */
function installedVersion(name: string): string {
  const file = join(REPO_ROOT, 'node_modules', ...name.split('/'), 'package.json');
  if (!existsSync(file))
    throw new Error(`${name} is imported by the functions but not installed (${file}); run npm ci`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
