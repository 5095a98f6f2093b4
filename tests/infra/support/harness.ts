import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs the Pulumi program (infra/index.ts) under `pulumi.runtime.setMocks`: no CLI, no cloud. Every
 * resource the program registers is recorded with its inputs, and the mock answers with the outputs
 * the real provider would compute (e-mails of service accounts, URIs of functions, secret versions),
 * so wiring between resources can be checked end to end.
 */
export const PROJECT_NAME = 'crypto-market-pipeline';
export const GCP_PROJECT = 'demo-project';
export const PROJECT_NUMBER = '123456789012';

/** A resource as registered: `inputs` are what the program asked for, `state` what the mock answered. */
export interface Recorded {
  type: string;
  name: string;
  urn: string;
  /**
   * URNs of the resources it waits for: its `dependsOn` (a component there stands for all of its
   * children) and those whose outputs it takes as inputs. What the engine orders creation by.
   */
  dependsOn: string[];
  /** False for component resources (ours), true for provider resources. */
  custom: boolean;
  inputs: Record<string, unknown>;
  state: Record<string, unknown>;
}

export interface ProgramRun {
  resources: Recorded[];
  outputs: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/** Outputs a provider computes, by resource type. */
function computedState(type: string, name: string, inputs: Json): Json {
  const project = (inputs.project as string | undefined) ?? GCP_PROJECT;
  const shortType = type.split(':').pop();
  switch (shortType) {
    case 'Account': {
      const email = `${inputs.accountId as string}@${project}.iam.gserviceaccount.com`;
      const id = `projects/${project}/serviceAccounts/${email}`;
      return { id, name: id, email, member: `serviceAccount:${email}` };
    }
    case 'ServiceIdentity': {
      const email = `service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com`;
      return { id: email, email, member: `serviceAccount:${email}` };
    }
    case 'Function': {
      const fn = inputs.name as string;
      const location = inputs.location as string;
      return {
        id: `projects/${project}/locations/${location}/functions/${fn}`,
        url: `https://${location}-${project}.cloudfunctions.net/${fn}`,
        serviceConfig: {
          ...(inputs.serviceConfig as Json),
          uri: `https://${fn}-abc123-uc.a.run.app`,
          service: `projects/${project}/locations/${location}/services/${fn}`,
        },
      };
    }
    case 'SecretVersion':
      return {
        id: `${inputs.secret as string}/versions/1`,
        name: `${inputs.secret as string}/versions/1`,
        version: '1',
      };
    case 'Secret':
      return { id: `projects/${project}/secrets/${inputs.secretId as string}` };
    case 'Topic':
      return { id: `projects/${project}/topics/${inputs.name as string}` };
    case 'Subscription':
      return { id: `projects/${project}/subscriptions/${inputs.name as string}` };
    case 'Repository':
      return {
        id: `projects/${project}/locations/${inputs.location as string}/repositories/${inputs.repositoryId as string}`,
        name: inputs.repositoryId,
      };
    case 'Dataset':
      return { id: `projects/${project}/datasets/${inputs.datasetId as string}` };
    case 'Bucket':
      return { id: inputs.name, url: `gs://${inputs.name as string}` };
    default:
      return { id: `${name}-id` };
  }
}

/** A function bundle directory as Cloud Build's bundle step leaves it (content is irrelevant here). */
const fixtures: string[] = [];

export function fixtureBundleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'infra-bundle-'));
  fixtures.push(dir);
  writeFileSync(join(dir, 'index.js'), 'export {};\n');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  mkdirSync(join(dir, 'sql', 'load'), { recursive: true });
  writeFileSync(join(dir, 'sql', 'load', 'merge_run.sql'), 'select 1\n');
  return dir;
}

/** The configuration of the tests' stack: Pulumi.dev.yaml-like, with a fixture bundle. */
export function stackConfig(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'gcp:project': GCP_PROJECT,
    'gcp:region': 'us-central1',
    [`${PROJECT_NAME}:namePrefix`]: 'crypto-dev',
    [`${PROJECT_NAME}:coingeckoPlan`]: 'demo',
    [`${PROJECT_NAME}:coingeckoApiKey`]: 'CG-test-key',
    [`${PROJECT_NAME}:githubOwner`]: 'example',
    [`${PROJECT_NAME}:githubRepo`]: 'crypto-market-pipeline',
    [`${PROJECT_NAME}:stateBucket`]: 'demo-project-pulumi-state',
    [`${PROJECT_NAME}:alertEmail`]: 'oncall@example.com',
    [`${PROJECT_NAME}:functionsBundleDir`]: fixtureBundleDir(),
    ...overrides,
  };
}

/** Resolves an Output (or plain value) to its value. */
export async function valueOf(value: unknown): Promise<unknown> {
  const pulumi = await import('@pulumi/pulumi');
  if (pulumi.Output.isInstance(value))
    return new Promise((resolve) => (value as { apply: (f: (v: unknown) => void) => void }).apply(resolve));
  return value;
}

/**
 * Imports infra/index.ts with `config` under mocks, waits for every registration and returns the
 * recorded resources and resolved stack outputs. Call once per test file: the program is a module,
 * evaluated once per module registry (jest gives each file its own).
 */
export async function runProgram(config: Record<string, string>): Promise<ProgramRun> {
  const pulumi = await import('@pulumi/pulumi');
  const resources: Recorded[] = [];
  // setMocks hands newResource no dependencies; the register request the monitor gets has them.
  const registered = new Map<string, { urn: string; dependencies: string[] }>();
  const secretKeys = Object.keys(config).filter((k) => k.endsWith(':coingeckoApiKey'));
  pulumi.runtime.setAllConfig(config, secretKeys);
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const state = { ...args.inputs, ...computedState(args.type, args.name, args.inputs as Json) };
        const { id, ...rest } = state;
        // Plain JSON copies: assets carry promises, and tests clone and doctor these records.
        const plain = (o: unknown) => JSON.parse(JSON.stringify(o)) as Json;
        const seen = registered.get(`${args.type}::${args.name}`);
        resources.push({
          type: args.type,
          name: args.name,
          urn: seen?.urn ?? '?',
          dependsOn: seen?.dependencies ?? [],
          custom: args.custom !== false,
          inputs: plain(args.inputs),
          state: plain(rest),
        });
        return { id: String(id), state: rest };
      },
      call: (args) =>
        args.token === 'gcp:organizations/getProject:getProject'
          ? { ...args.inputs, number: PROJECT_NUMBER, projectId: args.inputs.projectId ?? GCP_PROJECT }
          : args.inputs,
    },
    PROJECT_NAME,
    'dev',
    false,
  );
  recordDependencies(pulumi.runtime.getMonitor(), registered);
  const program = (await import('../../../infra/index.js')) as Record<string, unknown>;
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) outputs[key] = await valueOf(value);
  // Registrations that nothing exported depends on (IAM members, alerts) finish on later turns.
  let seen = -1;
  while (seen !== resources.length) {
    seen = resources.length;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { resources, outputs };
}

/** The slice of the mock monitor and its register request used to see dependencies. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
}
interface RecordableMonitor {
  newUrn(parent: string, type: string, name: string): string;
  registerResource(req: RegisterRequest, callback: unknown): Promise<void>;
}

/** Wraps the mock monitor's registerResource to keep each resource's URN and dependency URNs. */
function recordDependencies(
  monitor: unknown,
  into: Map<string, { urn: string; dependencies: string[] }>,
): void {
  const m = monitor as Partial<RecordableMonitor> | undefined;
  if (typeof m?.registerResource !== 'function' || typeof m.newUrn !== 'function')
    throw new Error('the Pulumi mock monitor changed shape: cannot record dependencies');
  const register = m.registerResource.bind(m);
  const newUrn = m.newUrn.bind(m);
  m.registerResource = (req, callback) => {
    into.set(`${req.getType()}::${req.getName()}`, {
      urn: newUrn(req.getParent(), req.getType(), req.getName()),
      dependencies: req.getDependenciesList(),
    });
    return register(req, callback);
  };
}

/** Whether `from` waits for `to`, directly or through other resources. */
export function dependsOnTransitively(resources: Recorded[], from: Recorded, to: Recorded): boolean {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const stack = [...from.dependsOn];
  while (stack.length > 0) {
    const urn = stack.pop()!;
    if (urn === to.urn) return true;
    if (seen.has(urn)) continue;
    seen.add(urn);
    stack.push(...(byUrn.get(urn)?.dependsOn ?? []));
  }
  return false;
}

/** Resources of a type, by the last segment of the type token (e.g. `Function`, `BucketIAMMember`). */
export const ofType = (resources: Recorded[], type: string): Recorded[] =>
  resources.filter((r) => r.type.split(':').pop() === type || r.type === type);

/** The one resource of a type whose logical name ends with `suffix`. */
export function one(resources: Recorded[], type: string, suffix: string): Recorded {
  const found = ofType(resources, type).filter((r) => r.name.endsWith(suffix));
  if (found.length !== 1)
    throw new Error(
      `expected one ${type} named *${suffix}, found ${found.map((r) => r.name).join(', ') || 'none'}`,
    );
  return found[0]!;
}

/** Removes the fixture bundle directories this file created. */
export function removeFixtures(): void {
  for (const dir of fixtures.splice(0)) rmSync(dir, { recursive: true, force: true });
}
