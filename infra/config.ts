import * as pulumi from '@pulumi/pulumi';
import { PLANS, type Plan } from '../functions/src/config.js';
import { assertCadence } from '../functions/src/core/run-identity.js';

/**
 * Every configuration read of the Pulumi program happens here (ARCHITECTURE.md §7.6). The keys are
 * declared, with types, descriptions and these same defaults, under `config:` in Pulumi.yaml;
 * tests/infra/config.test.ts fails when the two disagree. The defaults are repeated here because
 * the Pulumi CLI applies Pulumi.yaml defaults but unit tests (setMocks) run without the CLI.
 */
export const DEFAULTS = {
  region: 'us-central1',
  namePrefix: 'crypto',
  bqLocation: 'US',
  dataset: 'crypto_market',
  coingeckoPlan: 'demo',
  coingeckoApiKey: '',
  vsCurrency: 'usd',
  /** Empty: the one `vsCurrency`. Otherwise one run (one Scheduler job) per currency and slot. */
  vsCurrencies: [] as readonly string[],
  coinLimit: 250,
  perPage: 250,
  schedule: '*/15 * * * *',
  cadenceMinutes: 15,
  retryBudgetSeconds: 120,
  requestTimeoutSeconds: 30,
  extractTimeoutSeconds: 300,
  loadTimeoutSeconds: 540,
  maxDeliveryAttempts: 5,
  rawNearlineAfterDays: 30,
  rawColdlineAfterDays: 180,
  softDeleteRetentionDays: 7,
  protectData: true,
  alertEmail: '',
  freshnessAlertMinutes: 60,
  githubOwner: '',
  githubRepo: '',
  deployBranch: 'main',
  stateBucket: '',
  passphraseSecret: 'pulumi-config-passphrase',
  functionsBundleDir: '',
} as const;

export type ConfigKey = keyof typeof DEFAULTS;

/** Config values as typed values (before validation); what `readRawConfig` returns. */
export type RawConfig = {
  -readonly [K in ConfigKey]: (typeof DEFAULTS)[K] extends number
    ? number
    : (typeof DEFAULTS)[K] extends boolean
      ? boolean
      : (typeof DEFAULTS)[K] extends readonly string[]
        ? readonly string[]
        : string;
} & { project: string; stack: string };

/** The validated configuration every component receives a slice of. */
export interface InfraConfig {
  project: string;
  stack: string;
  region: string;
  /** Prefix of every resource name (service accounts, functions, topics, jobs). */
  prefix: string;
  bqLocation: string;
  dataset: string;
  coingecko: {
    plan: Plan;
    /** Present exactly when the plan needs a key; a Pulumi secret. */
    apiKey: pulumi.Output<string> | undefined;
  };
  /** The first of `vsCurrencies` (the functions' default currency). */
  vsCurrency: string;
  /** Every quote currency, at least one. */
  vsCurrencies: string[];
  coinLimit: number;
  perPage: number;
  schedule: string;
  cadenceMinutes: number;
  retryBudgetSeconds: number;
  requestTimeoutSeconds: number;
  extractTimeoutSeconds: number;
  loadTimeoutSeconds: number;
  maxDeliveryAttempts: number;
  lake: { nearlineAfterDays: number; coldlineAfterDays: number; softDeleteRetentionDays: number };
  protectData: boolean;
  alertEmail: string | undefined;
  freshnessAlertMinutes: number;
  /** Continuous delivery; undefined when no GitHub repository is configured. */
  cicd:
    | {
        githubOwner: string;
        githubRepo: string;
        branch: string;
        stateBucket: string;
        passphraseSecret: string;
      }
    | undefined;
  /** A directory holding an already bundled function source (Cloud Build's bundle step), or undefined to bundle now. */
  functionsBundleDir: string | undefined;
}

/** Cloud Scheduler's attempt deadline for HTTP targets is at most 30 min; keep 30 s over the timeout. */
export const MAX_EXTRACT_TIMEOUT_SECONDS = 1800 - 30;
/** A push subscription's ack deadline is at most 600 s and must outlast the load function. */
export const MAX_LOAD_TIMEOUT_SECONDS = 600 - 30;

export class InfraConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'InfraConfigError';
  }
}

/** Reads every key from the stack (falling back to DEFAULTS) without judging the values. */
export function readRawConfig(): RawConfig {
  const cfg = new pulumi.Config();
  const gcpCfg = new pulumi.Config('gcp');
  const raw: Record<string, unknown> = {
    project: gcpCfg.get('project') ?? '',
    stack: pulumi.getStack(),
  };
  for (const [key, fallback] of Object.entries(DEFAULTS)) {
    // A list: whatever the stack holds (resolveConfig judges it), e.g. `pulumi config set --path 'vsCurrencies[1]' eur`.
    if (Array.isArray(fallback)) raw[key] = cfg.getObject<unknown>(key) ?? fallback;
    else if (typeof fallback === 'number') raw[key] = cfg.getNumber(key) ?? fallback;
    else if (typeof fallback === 'boolean') raw[key] = cfg.getBoolean(key) ?? fallback;
    else raw[key] = cfg.get(key) ?? fallback;
  }
  return raw as RawConfig;
}

const NAME_PREFIX = /^[a-z][a-z0-9-]{0,16}[a-z0-9]$/;

/**
 * Validates the raw values and shapes them for the components. One error lists every problem, so
 * `pulumi preview` tells the whole story at once.
 */
export function resolveConfig(raw: RawConfig): InfraConfig {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const intIn = (key: keyof RawConfig, min: number, max: number) => {
    const v = raw[key] as number;
    check(
      Number.isInteger(v) && v >= min && v <= max,
      `${key} must be a whole number from ${min} to ${max}, got ${v}`,
    );
  };
  const blank = (s: string) => s.trim() === '';

  check(!blank(raw.project), 'gcp:project is not set: `pulumi config set gcp:project <your-project-id>`');
  check(
    NAME_PREFIX.test(raw.namePrefix),
    `namePrefix must be 2-18 of [a-z0-9-], starting with a letter: got '${raw.namePrefix}'`,
  );
  check(
    /^[a-z]+-[a-z]+\d$/.test(raw.region),
    `region must be a GCP region such as us-central1, got '${raw.region}'`,
  );
  check(
    /^[A-Za-z0-9_]{1,1024}$/.test(raw.dataset),
    `dataset must be letters, digits and underscores, got '${raw.dataset}'`,
  );
  check(!blank(raw.bqLocation), 'bqLocation must be set (e.g. US, EU, us-central1)');
  const plan = raw.coingeckoPlan as Plan;
  check(
    plan in PLANS,
    `coingeckoPlan must be one of ${Object.keys(PLANS).join(', ')}, got '${raw.coingeckoPlan}'`,
  );
  const needsKey = plan !== 'keyless';
  check(
    !needsKey || !blank(raw.coingeckoApiKey),
    `coingeckoApiKey is required for the ${raw.coingeckoPlan} plan: \`pulumi config set --secret coingeckoApiKey <key>\` (or coingeckoPlan keyless)`,
  );
  check(
    /^[a-z0-9]{2,10}$/.test(raw.vsCurrency),
    `vsCurrency must be a lower-case currency code such as usd, got '${raw.vsCurrency}'`,
  );
  const vsCurrencies = currencyList(raw, problems);
  intIn('coinLimit', 1, 20_000);
  intIn('perPage', 1, 250);
  intIn('cadenceMinutes', 1, 1440);
  try {
    assertCadence(raw.cadenceMinutes);
  } catch (e) {
    problems.push(`cadenceMinutes: ${(e as Error).message}`);
  }
  check(
    raw.schedule.trim().split(/\s+/).length === 5,
    `schedule must be a 5-field unix cron (Cloud Scheduler), got '${raw.schedule}'`,
  );
  intIn('retryBudgetSeconds', 1, 3600);
  intIn('requestTimeoutSeconds', 1, 300);
  intIn('extractTimeoutSeconds', 60, MAX_EXTRACT_TIMEOUT_SECONDS);
  intIn('loadTimeoutSeconds', 60, MAX_LOAD_TIMEOUT_SECONDS);
  // The functions retry transient errors inside this budget and must then still have time to fail
  // cleanly, so the platform (Scheduler, Pub/Sub) is what retries next (ARCHITECTURE.md §4).
  check(
    raw.retryBudgetSeconds + raw.requestTimeoutSeconds < raw.extractTimeoutSeconds,
    `retryBudgetSeconds + requestTimeoutSeconds (${raw.retryBudgetSeconds + raw.requestTimeoutSeconds}) must be less than extractTimeoutSeconds (${raw.extractTimeoutSeconds})`,
  );
  check(
    raw.retryBudgetSeconds < raw.loadTimeoutSeconds,
    `retryBudgetSeconds (${raw.retryBudgetSeconds}) must be less than loadTimeoutSeconds (${raw.loadTimeoutSeconds})`,
  );
  intIn('maxDeliveryAttempts', 5, 100);
  intIn('rawNearlineAfterDays', 1, 3650);
  intIn('rawColdlineAfterDays', 2, 3650);
  check(
    raw.rawColdlineAfterDays > raw.rawNearlineAfterDays,
    `rawColdlineAfterDays (${raw.rawColdlineAfterDays}) must be after rawNearlineAfterDays (${raw.rawNearlineAfterDays})`,
  );
  check(
    raw.softDeleteRetentionDays === 0 ||
      (raw.softDeleteRetentionDays >= 7 && raw.softDeleteRetentionDays <= 90),
    `softDeleteRetentionDays must be 0 (off) or 7-90 (Cloud Storage's range), got ${raw.softDeleteRetentionDays}`,
  );
  intIn('freshnessAlertMinutes', 10, 1440);
  check(
    raw.freshnessAlertMinutes >= 2 * raw.cadenceMinutes,
    `freshnessAlertMinutes (${raw.freshnessAlertMinutes}) must be at least two cadences (${2 * raw.cadenceMinutes}) or every late run pages someone`,
  );
  check(
    blank(raw.alertEmail) || /^[^@\s]+@[^@\s]+$/.test(raw.alertEmail),
    `alertEmail is not an e-mail address: '${raw.alertEmail}'`,
  );
  const wantsCicd = !blank(raw.githubOwner) || !blank(raw.githubRepo);
  if (wantsCicd) {
    check(
      !blank(raw.githubOwner) && !blank(raw.githubRepo),
      'githubOwner and githubRepo must be set together',
    );
    check(
      !blank(raw.stateBucket),
      'stateBucket (the gs:// bucket holding Pulumi state) is required when a GitHub repository is set',
    );
    check(
      !blank(raw.passphraseSecret),
      'passphraseSecret must name the Secret Manager secret holding PULUMI_CONFIG_PASSPHRASE',
    );
  }
  if (problems.length > 0) throw new InfraConfigError(problems);

  return {
    project: raw.project,
    stack: raw.stack,
    region: raw.region,
    prefix: raw.namePrefix,
    bqLocation: raw.bqLocation,
    dataset: raw.dataset,
    coingecko: { plan, apiKey: needsKey ? pulumi.secret(raw.coingeckoApiKey) : undefined },
    vsCurrency: vsCurrencies[0]!,
    vsCurrencies,
    coinLimit: raw.coinLimit,
    perPage: raw.perPage,
    schedule: raw.schedule.trim(),
    cadenceMinutes: raw.cadenceMinutes,
    retryBudgetSeconds: raw.retryBudgetSeconds,
    requestTimeoutSeconds: raw.requestTimeoutSeconds,
    extractTimeoutSeconds: raw.extractTimeoutSeconds,
    loadTimeoutSeconds: raw.loadTimeoutSeconds,
    maxDeliveryAttempts: raw.maxDeliveryAttempts,
    lake: {
      nearlineAfterDays: raw.rawNearlineAfterDays,
      coldlineAfterDays: raw.rawColdlineAfterDays,
      softDeleteRetentionDays: raw.softDeleteRetentionDays,
    },
    protectData: raw.protectData,
    alertEmail: blank(raw.alertEmail) ? undefined : raw.alertEmail,
    freshnessAlertMinutes: raw.freshnessAlertMinutes,
    cicd: wantsCicd
      ? {
          githubOwner: raw.githubOwner,
          githubRepo: raw.githubRepo,
          branch: raw.deployBranch,
          stateBucket: raw.stateBucket.replace(/^gs:\/\//, ''),
          passphraseSecret: raw.passphraseSecret,
        }
      : undefined,
    functionsBundleDir: blank(raw.functionsBundleDir) ? undefined : raw.functionsBundleDir,
  };
}

/**
 * `vsCurrencies` when set (codes, no repeats), else `[vsCurrency]`. A `vsCurrency` changed from its
 * default must be in the list: the old key is never silently overruled.
 */
function currencyList(raw: RawConfig, problems: string[]): string[] {
  const listed: unknown = raw.vsCurrencies;
  const codes = Array.isArray(listed) ? (listed as unknown[]) : [];
  if (!Array.isArray(listed) || codes.some((c) => typeof c !== 'string' || !/^[a-z0-9]{2,10}$/.test(c))) {
    problems.push(
      `vsCurrencies must be a list of lower-case currency codes such as [usd, eur], got ${JSON.stringify(listed)}`,
    );
    return [raw.vsCurrency];
  }
  const list = codes as string[];
  if (list.length === 0) return [raw.vsCurrency];
  const repeated = [...new Set(list.filter((c, i) => list.indexOf(c) !== i))];
  if (repeated.length > 0) problems.push(`vsCurrencies lists ${repeated.join(', ')} twice`);
  if (raw.vsCurrency !== DEFAULTS.vsCurrency && !list.includes(raw.vsCurrency))
    problems.push(
      `vsCurrency '${raw.vsCurrency}' is not in vsCurrencies [${list.join(', ')}]: set one of them, or list it`,
    );
  return [...list];
}

/** The stack's configuration, validated. */
export function loadConfig(): InfraConfig {
  return resolveConfig(readRawConfig());
}
