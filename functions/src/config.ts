import * as z from 'zod/mini';
import './core/zod-messages.js';
import { PipelineError } from './core/errors.js';
import { assertCadence } from './core/run-identity.js';

/**
 * Configuration, parsed once at cold start from an env object passed in (ARCHITECTURE.md §7.4).
 * Empty strings count as unset; one error lists every problem. The deployed functions get exactly
 * these variables from Pulumi (infra reads `CONFIG_KEYS`), the twin builds the same object.
 */
export const PLANS = {
  keyless: {
    host: 'https://api.coingecko.com',
    header: undefined,
    callsPerMinute: 5,
    monthlyCalls: undefined,
  },
  demo: {
    host: 'https://api.coingecko.com',
    header: 'x-cg-demo-api-key',
    callsPerMinute: 30,
    monthlyCalls: 10_000,
  },
  pro: {
    host: 'https://pro-api.coingecko.com',
    header: 'x-cg-pro-api-key',
    callsPerMinute: 500,
    monthlyCalls: 500_000,
  },
} as const;
export type Plan = keyof typeof PLANS;

/** A CoinGecko `vs_currency` code as the run id and lake keys carry it. */
const CURRENCY_CODE = /^[a-z0-9]{2,10}$/;

const int = (min: number, max: number) => z.coerce.number().check(z.int(), z.minimum(min), z.maximum(max));

const EnvSchema = z.object({
  PIPELINE_ENGINE: z._default(z.enum(['gcp', 'local']), 'gcp'),
  COINGECKO_PLAN: z._default(z.enum(['keyless', 'demo', 'pro']), 'keyless'),
  COINGECKO_API_KEY: z.optional(z.string()),
  COINGECKO_BASE_URL: z.optional(z.url()),
  COINGECKO_CALLS_PER_MINUTE: z.optional(int(1, 100_000)),
  VS_CURRENCY: z._default(
    z.string().check(z.regex(CURRENCY_CODE, 'lower-case currency code such as usd')),
    'usd',
  ),
  /** Comma-separated list, e.g. `usd,eur`: one run per currency and slot (VS_CURRENCY: a list of one). */
  VS_CURRENCIES: z.optional(z.string()),
  COIN_LIMIT: z._default(int(1, 20_000), 250),
  PER_PAGE: z._default(int(1, 250), 250),
  CADENCE_MINUTES: z._default(int(1, 1440), 15),
  RETRY_BUDGET_SECONDS: z._default(int(1, 3600), 120),
  REQUEST_TIMEOUT_SECONDS: z._default(int(1, 300), 30),
  GCP_PROJECT: z.optional(z.string()),
  RAW_BUCKET: z.optional(z.string()),
  EVENTS_TOPIC: z.optional(z.string()),
  BQ_DATASET: z.optional(z.string()),
  BQ_LOCATION: z.optional(z.string()),
  /**
   * A Cloud Storage emulator, `http://host:port` or `host:port` as the Storage client takes it:
   * the lake read (load) sends it no token.
   */
  STORAGE_EMULATOR_HOST: z.optional(
    z
      .string()
      .check(
        z.regex(/^(https?:\/\/)?[\w.[\]:-]+(\/\S*)?$/, 'http://host:port or host:port, e.g. localhost:4443'),
      ),
  ),
  /** Pub/Sub's REST root, e.g. a locational endpoint (https://europe-west1-pubsub.googleapis.com). */
  PUBSUB_API_ENDPOINT: z.optional(z.url()),
  /** `host:port` of a Pub/Sub emulator (its REST API, plain HTTP, no credentials), as gcloud sets it. */
  PUBSUB_EMULATOR_HOST: z.optional(
    z.string().check(z.regex(/^[\w.-]+:\d+$|^\[[\da-fA-F:]+\]:\d+$/, 'host:port, e.g. localhost:8085')),
  ),
  PIPELINE_DATA_DIR: z._default(z.string(), '.data'),
});

/**
 * Rules that span several variables, checked on the raw values so that they are reported together
 * with any per-variable problem (one error lists every problem).
 */
function crossFieldProblems(env: Record<string, string>): string[] {
  const problems: string[] = [];
  const plan = env.COINGECKO_PLAN ?? 'keyless';
  if ((plan === 'demo' || plan === 'pro') && env.COINGECKO_API_KEY === undefined) {
    problems.push(`COINGECKO_API_KEY: required for the ${plan} plan`);
  }
  if ((env.PIPELINE_ENGINE ?? 'gcp') === 'gcp') {
    for (const key of ['GCP_PROJECT', 'RAW_BUCKET', 'EVENTS_TOPIC', 'BQ_DATASET', 'BQ_LOCATION']) {
      if (env[key] === undefined) problems.push(`${key}: required when PIPELINE_ENGINE=gcp`);
    }
  }
  if (env.PUBSUB_API_ENDPOINT !== undefined && env.PUBSUB_EMULATOR_HOST !== undefined) {
    problems.push('PUBSUB_EMULATOR_HOST: set either it or PUBSUB_API_ENDPOINT, not both');
  }
  problems.push(...currencyList(env).problems);
  const cadence = Number(env.CADENCE_MINUTES ?? 15);
  if (Number.isInteger(cadence) && cadence >= 1 && cadence <= 1440) {
    try {
      assertCadence(cadence);
    } catch (e) {
      problems.push(`CADENCE_MINUTES: ${(e as Error).message}`);
    }
  }
  return problems;
}

/**
 * The quote currencies: VS_CURRENCIES when set (each a currency code, no repeats), else the single
 * VS_CURRENCY (default usd). When both are set, VS_CURRENCY must be one of the list: a stack or a
 * shell that still sets the old key to something else is told, not silently overruled.
 */
function currencyList(env: Record<string, string>): { list: string[]; problems: string[] } {
  const single = env.VS_CURRENCY ?? 'usd';
  if (env.VS_CURRENCIES === undefined) return { list: [single], problems: [] };
  const list = env.VS_CURRENCIES.split(',').map((c) => c.trim());
  const problems: string[] = [];
  const bad = list.filter((c) => !CURRENCY_CODE.test(c));
  if (bad.length > 0)
    problems.push(
      `VS_CURRENCIES: lower-case currency codes separated by commas, such as usd,eur (got ${JSON.stringify(env.VS_CURRENCIES)}; not codes: ${bad.map((b) => JSON.stringify(b)).join(', ')})`,
    );
  const repeated = list.filter((c, i) => list.indexOf(c) !== i);
  if (repeated.length > 0) problems.push(`VS_CURRENCIES: ${[...new Set(repeated)].join(', ')} listed twice`);
  if (env.VS_CURRENCY !== undefined && !list.includes(env.VS_CURRENCY))
    problems.push(
      `VS_CURRENCY (${env.VS_CURRENCY}) is not in VS_CURRENCIES (${env.VS_CURRENCIES}): set one of them, or list it`,
    );
  return { list, problems };
}

/** An emulator's root URL: plain HTTP when the variable names only `host:port`; no trailing slash. */
const emulatorUrl = (value: string) =>
  (/^https?:\/\//.test(value) ? value : `http://${value}`).replace(/\/+$/, '');

/** Every variable the functions read; infra sets exactly these. */
export const CONFIG_KEYS = Object.keys(EnvSchema.shape) as (keyof typeof EnvSchema.shape)[];

export interface CoinGeckoConfig {
  plan: Plan;
  apiKey: string | undefined;
  baseUrl: string;
  callsPerMinute: number;
  requestTimeoutMs: number;
  retryBudgetMs: number;
}

export interface PipelineConfig {
  engine: 'gcp' | 'local';
  coingecko: CoinGeckoConfig;
  /** The first of `vsCurrencies`: the currency of a request that names none. */
  vsCurrency: string;
  /** Every quote currency: one run per currency and slot (run-identity.ts). */
  vsCurrencies: string[];
  coinLimit: number;
  perPage: number;
  cadenceMinutes: number;
  /** Time one invocation may spend retrying (market API, BigQuery), kept below the function timeout. */
  retryBudgetMs: number;
  gcp?: {
    project: string;
    bucket: string;
    topic: string;
    dataset: string;
    location: string;
    /**
     * Pub/Sub's REST root: Google's (or PUBSUB_API_ENDPOINT), or an emulator's
     * (PUBSUB_EMULATOR_HOST), which is sent no token.
     */
    pubsub: { baseUrl: string; authenticated: boolean };
    /** Cloud Storage's JSON API root, where `load` reads the lake over REST (an emulator's: no token). */
    storage: { baseUrl: string; authenticated: boolean };
  };
  dataDir: string;
}

export class ConfigError extends PipelineError {
  constructor(readonly problems: string[]) {
    super('config', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      code: 'config_invalid',
      retryable: false,
    });
  }
}

/**
 * One problem, with the value that caused it: zod says `expected number, received NaN` for
 * COIN_LIMIT=abc. Secrets are never echoed.
 */
function describeIssue(path: PropertyKey[], message: string, env: Record<string, string>): string {
  const key = String(path[0] ?? '');
  const value = env[key];
  const shown = value === undefined || key === 'COINGECKO_API_KEY' ? '' : ` (got ${JSON.stringify(value)})`;
  return `${path.map(String).join('.') || '(env)'}: ${message}${shown}`;
}

/** Parses an env-like object (e.g. `process.env`) into the pipeline configuration, or throws ConfigError. */
export function parseConfig(env: Record<string, string | undefined>): PipelineConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && entry[1].trim() !== '' && entry[0] in EnvSchema.shape,
    ),
  );
  const parsed = EnvSchema.safeParse(present);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => describeIssue(i.path, i.message, present))),
    ...crossFieldProblems(present),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const plan = PLANS[e.COINGECKO_PLAN];
  const vsCurrencies = currencyList(present).list;
  return {
    engine: e.PIPELINE_ENGINE,
    coingecko: {
      plan: e.COINGECKO_PLAN,
      apiKey: e.COINGECKO_API_KEY,
      baseUrl: (e.COINGECKO_BASE_URL ?? plan.host).replace(/\/+$/, ''),
      callsPerMinute: e.COINGECKO_CALLS_PER_MINUTE ?? plan.callsPerMinute,
      requestTimeoutMs: e.REQUEST_TIMEOUT_SECONDS * 1000,
      retryBudgetMs: e.RETRY_BUDGET_SECONDS * 1000,
    },
    vsCurrency: vsCurrencies[0]!,
    vsCurrencies,
    coinLimit: e.COIN_LIMIT,
    perPage: e.PER_PAGE,
    cadenceMinutes: e.CADENCE_MINUTES,
    retryBudgetMs: e.RETRY_BUDGET_SECONDS * 1000,
    gcp:
      e.PIPELINE_ENGINE === 'gcp'
        ? {
            project: e.GCP_PROJECT!,
            bucket: e.RAW_BUCKET!,
            topic: e.EVENTS_TOPIC!,
            dataset: e.BQ_DATASET!,
            location: e.BQ_LOCATION!,
            pubsub:
              e.PUBSUB_EMULATOR_HOST === undefined
                ? {
                    baseUrl: (e.PUBSUB_API_ENDPOINT ?? 'https://pubsub.googleapis.com').replace(/\/+$/, ''),
                    authenticated: true,
                  }
                : { baseUrl: `http://${e.PUBSUB_EMULATOR_HOST}`, authenticated: false },
            storage:
              e.STORAGE_EMULATOR_HOST === undefined
                ? { baseUrl: 'https://storage.googleapis.com/storage/v1', authenticated: true }
                : {
                    baseUrl: `${emulatorUrl(e.STORAGE_EMULATOR_HOST)}/storage/v1`,
                    authenticated: false,
                  },
          }
        : undefined,
    dataDir: e.PIPELINE_DATA_DIR,
  };
}
