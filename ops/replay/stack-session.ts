import type * as z from 'zod';
import { adcToken } from '../cloud-check/cloud-check.js';
import {
  restClient,
  withTimeout,
  type FetchFn,
  type RestClient,
} from '../../functions/src/adapters/gcp/google-rest.js';
import { execProgram, readStackOutputsJson, type ExecFn } from '../cloud-check/stack-outputs.js';

/**
 * What the ops commands that write to a deployed stack (`replay --stack`, `backfill --stack`)
 * share: the stack's outputs, an access token, and a REST client with a timeout on every call.
 */

/** Where the Google APIs are; overridable (CLOUD_CHECK_<API>_URL) so tests use local fakes. */
export const GOOGLE_API_URLS = {
  storage: 'https://storage.googleapis.com',
  pubsub: 'https://pubsub.googleapis.com',
} as const;

/** Which stack: `pulumi stack output --json --stack NAME`, or that command's JSON saved in a file. */
export interface StackTarget {
  stack?: string;
  outputsFile?: string;
  /** Per API call. */
  requestTimeoutMs: number;
}

/** Seams for tests: the Pulumi CLI, the ADC token, fetch. */
export interface StackDeps {
  exec?: ExecFn;
  getAccessToken?: () => Promise<string>;
  fetch?: FetchFn;
}

/** A connected stack: its outputs (as `schema` reads them) and a client for its APIs. */
export interface StackSession<T> {
  outputs: T;
  rest: RestClient;
  /** The API's base URL, without a trailing slash. */
  url(api: keyof typeof GOOGLE_API_URLS): string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** A non-blank value, trimmed. */
export const setValue = (v: string | undefined): string | undefined =>
  v === undefined || v.trim() === '' ? undefined : v.trim();

/**
 * Reads the stack's outputs, checks the ones the command needs, and gets a token
 * (CLOUD_CHECK_ACCESS_TOKEN, else Application Default Credentials). Throws an Error whose message
 * says what is missing (outputs of an older deployment: deploy this version first).
 */
export async function openStack<T>(
  target: StackTarget,
  schema: z.ZodType<T>,
  env: Env,
  deps: StackDeps = {},
): Promise<StackSession<T>> {
  const json = await readStackOutputsJson(
    target,
    deps.exec ?? execProgram,
    Math.max(target.requestTimeoutMs, 60_000),
  );
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const keys = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? '?')))];
    throw new Error(
      `stack outputs missing or invalid: ${keys.join(', ')}. Deploy this version first (\`pulumi up\`).`,
    );
  }
  const token =
    setValue(env.CLOUD_CHECK_ACCESS_TOKEN) ??
    (await withTimeout(
      (deps.getAccessToken ?? adcToken)(),
      target.requestTimeoutMs,
      () => new Error(`no access token within ${target.requestTimeoutMs / 1000} s`),
    ));
  return {
    outputs: parsed.data,
    rest: restClient({ token, timeoutMs: target.requestTimeoutMs, fetch: deps.fetch }),
    url: (api) =>
      (setValue(env[`CLOUD_CHECK_${api.toUpperCase()}_URL`]) ?? GOOGLE_API_URLS[api]).replace(/\/+$/, ''),
  };
}

/** `projects/P/topics/T` from a stack's topic output (a short name or already a path). */
export function topicPath(project: string, topic: string): string {
  return topic.startsWith('projects/') ? topic : `projects/${project}/topics/${topic}`;
}
