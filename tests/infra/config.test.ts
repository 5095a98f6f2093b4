import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { load as parseYaml } from 'js-yaml';
import { DEFAULTS, InfraConfigError, resolveConfig, type RawConfig } from '../../infra/config.js';
import { REPO_ROOT } from '../../infra/bundle.js';
import { planBudget } from '../../infra/planner.js';

interface Declared {
  type: string;
  description: string;
  default: unknown;
}
const project = parseYaml(readFileSync(join(REPO_ROOT, 'Pulumi.yaml'), 'utf8')) as {
  name: string;
  runtime: { name: string; options: Record<string, unknown> };
  main: string;
  config: Record<string, Declared>;
};
const devStack = parseYaml(readFileSync(join(REPO_ROOT, 'Pulumi.dev.yaml'), 'utf8')) as {
  config: Record<string, unknown>;
};
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

const raw = (overrides: Partial<RawConfig> = {}): RawConfig => ({
  ...DEFAULTS,
  project: 'demo-project',
  stack: 'dev',
  coingeckoApiKey: 'CG-key',
  ...overrides,
});

describe('Pulumi.yaml', () => {
  it('declares every key infra/config.ts reads, with the same type and default', () => {
    expect(Object.keys(project.config).sort()).toEqual(Object.keys(DEFAULTS).sort());
    for (const [key, fallback] of Object.entries(DEFAULTS)) {
      const declared = project.config[key]!;
      const type = Array.isArray(fallback)
        ? 'array'
        : typeof fallback === 'number'
          ? 'integer'
          : typeof fallback;
      expect([key, declared.type, declared.default]).toEqual([key, type, fallback]);
      expect(declared.description.length).toBeGreaterThan(10);
    }
  });

  it('runs infra/index.ts as native ESM TypeScript through tsx', () => {
    expect(project.name).toBe('crypto-market-pipeline');
    expect(project.main).toBe('infra/index.ts');
    expect(project.runtime).toEqual({
      name: 'nodejs',
      options: { typescript: false, nodeargs: '--import tsx' },
    });
    expect(pkg.dependencies.tsx).toBeDefined();
  });
});

describe('Pulumi.dev.yaml', () => {
  it('sets only declared keys (or the gcp provider), and the result is valid and within budget', () => {
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(devStack.config)) {
      const [ns, name] = key.split(':') as [string, string];
      if (ns === 'gcp') continue;
      expect([key, ns]).toEqual([key, project.name]);
      expect(Object.keys(DEFAULTS)).toContain(name);
      values[name] = value;
    }
    const cfg = resolveConfig(
      raw({ ...values, project: String(devStack.config['gcp:project']) } as Partial<RawConfig>),
    );
    expect(cfg.prefix).toBe('crypto-dev');
    expect(cfg.region).toBe(devStack.config['gcp:region']);
    expect(() =>
      planBudget({
        plan: cfg.coingecko.plan,
        coinLimit: cfg.coinLimit,
        perPage: cfg.perPage,
        schedule: cfg.schedule,
        cadenceMinutes: cfg.cadenceMinutes,
      }),
    ).not.toThrow();
  });
});

describe('resolveConfig', () => {
  it('accepts the defaults with a project and an API key', () => {
    const cfg = resolveConfig(raw());
    expect(cfg).toMatchObject({
      region: 'us-central1',
      prefix: 'crypto',
      coingecko: { plan: 'demo' },
      cicd: undefined,
      alertEmail: undefined,
    });
    expect(cfg.coingecko.apiKey).toBeDefined();
  });

  it('needs no key on the keyless plan', () => {
    expect(
      resolveConfig(raw({ coingeckoPlan: 'keyless', coingeckoApiKey: '' })).coingecko.apiKey,
    ).toBeUndefined();
  });

  it('lists every problem at once, saying how to fix it', () => {
    let error: InfraConfigError | undefined;
    try {
      resolveConfig(
        raw({
          project: '',
          coingeckoApiKey: '',
          namePrefix: 'Bad_Prefix',
          rawColdlineAfterDays: 10,
          retryBudgetSeconds: 290,
          loadTimeoutSeconds: 599,
          softDeleteRetentionDays: 3,
          cadenceMinutes: 7,
          githubOwner: 'someone',
        }),
      );
    } catch (e) {
      error = e as InfraConfigError;
    }
    expect(error).toBeInstanceOf(InfraConfigError);
    expect(error!.problems).toEqual([
      expect.stringContaining('pulumi config set gcp:project'),
      expect.stringContaining('namePrefix'),
      expect.stringContaining('pulumi config set --secret coingeckoApiKey'),
      expect.stringContaining('cadenceMinutes: cadence must be a whole number of minutes that divides 1440'),
      expect.stringContaining('loadTimeoutSeconds must be a whole number from 60 to 570'),
      expect.stringContaining(
        'retryBudgetSeconds + requestTimeoutSeconds (320) must be less than extractTimeoutSeconds (300)',
      ),
      expect.stringContaining('rawColdlineAfterDays (10) must be after rawNearlineAfterDays (30)'),
      expect.stringContaining('softDeleteRetentionDays must be 0 (off) or 7-90'),
      expect.stringContaining('githubOwner and githubRepo must be set together'),
      expect.stringContaining('stateBucket'),
    ]);
  });

  it('enables CI/CD with a repository and a state bucket', () => {
    const cfg = resolveConfig(raw({ githubOwner: 'o', githubRepo: 'r', stateBucket: 'gs://state' }));
    expect(cfg.cicd).toEqual({
      githubOwner: 'o',
      githubRepo: 'r',
      branch: 'main',
      stateBucket: 'state',
      passphraseSecret: 'pulumi-config-passphrase',
    });
  });
});

describe('quote currencies (vsCurrencies, vsCurrency)', () => {
  it('vsCurrency alone is a list of one; vsCurrencies lists several, the first the default', () => {
    expect(resolveConfig(raw())).toMatchObject({ vsCurrency: 'usd', vsCurrencies: ['usd'] });
    expect(resolveConfig(raw({ vsCurrency: 'eur' }))).toMatchObject({
      vsCurrency: 'eur',
      vsCurrencies: ['eur'],
    });
    expect(resolveConfig(raw({ vsCurrencies: ['usd', 'eur'] }))).toMatchObject({
      vsCurrency: 'usd',
      vsCurrencies: ['usd', 'eur'],
    });
    expect(resolveConfig(raw({ vsCurrencies: ['eur', 'gbp'], vsCurrency: 'gbp' })).vsCurrencies).toEqual([
      'eur',
      'gbp',
    ]);
  });

  it('one error lists every currency problem', () => {
    const problems = (overrides: Partial<RawConfig>) => {
      try {
        resolveConfig(raw(overrides));
      } catch (e) {
        return (e as InfraConfigError).problems;
      }
      return [];
    };
    expect(problems({ vsCurrencies: ['usd', 'usd'], vsCurrency: 'jpy' })).toEqual([
      'vsCurrencies lists usd twice',
      "vsCurrency 'jpy' is not in vsCurrencies [usd, usd]: set one of them, or list it",
    ]);
    expect(problems({ vsCurrencies: 'usd,eur' as unknown as string[] })).toEqual([
      'vsCurrencies must be a list of lower-case currency codes such as [usd, eur], got "usd,eur"',
    ]);
    expect(problems({ vsCurrencies: ['USD'], coinLimit: 0 })).toEqual([
      'vsCurrencies must be a list of lower-case currency codes such as [usd, eur], got ["USD"]',
      'coinLimit must be a whole number from 1 to 20000, got 0',
    ]);
  });
});
