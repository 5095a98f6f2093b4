import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { load as parseYaml } from 'js-yaml';
import * as z from 'zod';
import { REPO_ROOT } from '../../infra/bundle.js';

/**
 * cloudbuild.yaml against Cloud Build's build config schema
 * (cloud.google.com/build/docs/build-config-file-schema), written as zod: unknown fields are errors,
 * as they are for `gcloud builds submit`. Then the rules the schema cannot say: every substitution
 * used is declared or built in, waitFor names earlier steps, secrets come only from availableSecrets.
 */
const duration = z.string().regex(/^\d+(\.\d+)?s$/, 'a duration such as 600s');
const envEntry = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*=/, 'KEY=VALUE');
const volume = z.strictObject({ name: z.string().min(1), path: z.string().startsWith('/') });

const Step = z.strictObject({
  name: z.string().min(1),
  args: z.array(z.string()).optional(),
  env: z.array(envEntry).optional(),
  allowFailure: z.boolean().optional(),
  allowExitCodes: z.array(z.number().int()).optional(),
  dir: z.string().optional(),
  id: z.string().min(1).optional(),
  waitFor: z.array(z.string().min(1)).optional(),
  entrypoint: z.string().optional(),
  secretEnv: z.array(z.string().min(1)).optional(),
  volumes: z.array(volume).optional(),
  timeout: duration.optional(),
  script: z.string().optional(),
  automapSubstitutions: z.boolean().optional(),
});

const BuildConfig = z.strictObject({
  steps: z.array(Step).min(1),
  timeout: duration.optional(),
  queueTtl: duration.optional(),
  logsBucket: z.string().optional(),
  serviceAccount: z.string().optional(),
  tags: z.array(z.string()).optional(),
  images: z.array(z.string()).optional(),
  substitutions: z
    .record(z.string().regex(/^_[A-Z0-9_]+$/, 'user substitutions are _UPPER_CASE'), z.string())
    .optional(),
  options: z
    .strictObject({
      sourceProvenanceHash: z.array(z.enum(['SHA256', 'MD5', 'SHA512'])).optional(),
      machineType: z
        .enum(['UNSPECIFIED', 'E2_HIGHCPU_8', 'E2_HIGHCPU_32', 'E2_MEDIUM', 'N1_HIGHCPU_8', 'N1_HIGHCPU_32'])
        .optional(),
      diskSizeGb: z.number().int().optional(),
      substitutionOption: z.enum(['MUST_MATCH', 'ALLOW_LOOSE']).optional(),
      dynamicSubstitutions: z.boolean().optional(),
      automapSubstitutions: z.boolean().optional(),
      logStreamingOption: z.enum(['STREAM_DEFAULT', 'STREAM_ON', 'STREAM_OFF']).optional(),
      logging: z
        .enum(['LOGGING_UNSPECIFIED', 'LEGACY', 'GCS_ONLY', 'STACKDRIVER_ONLY', 'CLOUD_LOGGING_ONLY', 'NONE'])
        .optional(),
      defaultLogsBucketBehavior: z.enum(['REGIONAL_USER_OWNED_BUCKET']).optional(),
      env: z.array(envEntry).optional(),
      secretEnv: z.array(z.string()).optional(),
      volumes: z.array(volume).optional(),
      pool: z.strictObject({ name: z.string() }).optional(),
      requestedVerifyOption: z.enum(['NOT_VERIFIED', 'VERIFIED']).optional(),
    })
    .optional(),
  availableSecrets: z
    .strictObject({
      secretManager: z
        .array(
          z.strictObject({
            versionName: z.string().regex(/^projects\/[^/]+\/secrets\/[^/]+\/versions\/[^/]+$/),
            env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
          }),
        )
        .optional(),
      inline: z
        .array(z.strictObject({ kmsKeyName: z.string(), envMap: z.record(z.string(), z.string()) }))
        .optional(),
    })
    .optional(),
  artifacts: z.unknown().optional(),
  secrets: z.unknown().optional(),
});

/** Substitutions Cloud Build provides itself. */
const BUILT_IN = new Set([
  'PROJECT_ID',
  'PROJECT_NUMBER',
  'BUILD_ID',
  'LOCATION',
  'TRIGGER_NAME',
  'COMMIT_SHA',
  'REVISION_ID',
  'SHORT_SHA',
  'REPO_NAME',
  'REPO_FULL_NAME',
  'BRANCH_NAME',
  'TAG_NAME',
  'REF_NAME',
  'TRIGGER_BUILD_CONFIG_PATH',
  'SERVICE_ACCOUNT_EMAIL',
  'SERVICE_ACCOUNT',
  '_HEAD_BRANCH',
  '_BASE_BRANCH',
  '_HEAD_REPO_URL',
  '_PR_NUMBER',
]);

const text = readFileSync(join(REPO_ROOT, 'cloudbuild.yaml'), 'utf8');
const build = BuildConfig.parse(parseYaml(text));

/** Every `$NAME` / `${NAME}` Cloud Build would substitute (`$$` is a literal dollar). */
function substitutionsUsed(value: unknown): string[] {
  if (typeof value === 'string') {
    return [
      ...value.replace(/\$\$/g, '').matchAll(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g),
    ].map((m) => m[1] ?? m[2]!);
  }
  if (Array.isArray(value)) return value.flatMap(substitutionsUsed);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => (k === 'substitutions' ? [] : substitutionsUsed(v)));
  }
  return [];
}

describe('cloudbuild.yaml', () => {
  it('is a valid Cloud Build config', () => {
    expect(() => BuildConfig.parse(parseYaml(text))).not.toThrow();
  });

  it('rejects what Cloud Build would reject (the schema has teeth)', () => {
    expect(BuildConfig.safeParse({ steps: [{ name: 'node', arg: ['x'] }] }).success).toBe(false);
    expect(BuildConfig.safeParse({ steps: [] }).success).toBe(false);
    expect(BuildConfig.safeParse({ steps: [{ name: 'node' }], substitutions: { STACK: 'x' } }).success).toBe(
      false,
    );
    expect(BuildConfig.safeParse({ steps: [{ name: 'node' }], timeout: '30m' }).success).toBe(false);
  });

  it('uses only declared or built-in substitutions, and declares none it does not use', () => {
    const used = new Set(substitutionsUsed(build));
    const declared = Object.keys(build.substitutions ?? {});
    for (const name of used)
      expect([name, BUILT_IN.has(name) || declared.includes(name)]).toEqual([name, true]);
    for (const name of declared) expect([name, used.has(name)]).toEqual([name, true]);
    // The trigger (infra/components/cicd.ts) sets these; tests/infra/stack.test.ts checks it does.
    expect(declared).toEqual(
      expect.arrayContaining(['_STACK', '_STATE_BUCKET', '_CACHE_BUCKET', '_PASSPHRASE_SECRET']),
    );
  });

  it('orders steps sensibly: ids unique, waitFor names earlier steps', () => {
    const ids = build.steps.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    build.steps.forEach((step, i) => {
      for (const dep of step.waitFor ?? []) {
        expect([step.id, dep, dep === '-' || ids.slice(0, i).includes(dep)]).toEqual([step.id, dep, true]);
      }
    });
  });

  it('installs from the lockfile with a cache, checks, tests and bundles before deploying', () => {
    const step = (id: string) => build.steps.find((s) => s.id === id)!;
    const command = (id: string) => [step(id).entrypoint, ...(step(id).args ?? [])].join(' ');
    expect(command('install')).toMatch(/^npm ci --cache \/workspace\/\.npm/);
    expect(command('restore-cache')).toContain('gs://${_CACHE_BUCKET}/npm-cache.tgz');
    expect(command('save-cache')).toContain('gs://${_CACHE_BUCKET}/npm-cache.tgz');
    expect(command('lint')).toContain('npm run typecheck && npm run lint');
    expect(command('test')).toContain('run jest');
    expect(command('test')).toContain('apt-get install -y chromium'); // the dashboard's browser test
    expect(command('bundle')).toContain('scripts/bundle-functions.ts --out dist/functions');
    expect(command('deploy')).toContain('pulumi login gs://${_STATE_BUCKET}');
    expect(command('deploy')).toMatch(/pulumi up --yes --non-interactive --stack \$\{_STACK\}/);
    expect(command('deploy')).toContain('functionsBundleDir=dist/functions');
    expect(step('deploy').waitFor).toEqual(['lint', 'test', 'bundle']);
    expect(step('deploy').name).toBe('${_PULUMI_IMAGE}');
    expect(build.substitutions!._PULUMI_IMAGE).toMatch(/^pulumi\/pulumi-nodejs:\d+\.\d+\.\d+$/);
  });

  it('holds no secret: the passphrase comes from Secret Manager through secretEnv', () => {
    const offered = (build.availableSecrets?.secretManager ?? []).map((s) => s.env);
    const wanted = build.steps.flatMap((s) => s.secretEnv ?? []);
    expect(offered).toEqual(['PULUMI_CONFIG_PASSPHRASE']);
    expect([...new Set(wanted)]).toEqual(offered);
    expect(build.availableSecrets!.secretManager![0]!.versionName).toBe(
      'projects/${PROJECT_ID}/secrets/${_PASSPHRASE_SECRET}/versions/latest',
    );
    const plainEnv = build.steps.flatMap((s) => s.env ?? []).map((e) => e.split('=')[0]);
    expect(plainEnv).not.toContain('PULUMI_CONFIG_PASSPHRASE');
    expect(text).not.toMatch(/PULUMI_ACCESS_TOKEN|CG-[A-Za-z0-9]{8,}|BEGIN PRIVATE KEY/);
  });

  it('logs to Cloud Logging, as builds running as a user-managed service account must', () => {
    expect(build.options?.logging).toBe('CLOUD_LOGGING_ONLY');
  });
});
