import type { Recorded } from './harness.js';

/**
 * The security posture of ARCHITECTURE.md §5 as one function over the resources a program
 * registered: it returns every violation it finds (empty = compliant). The stack tests run it on the
 * real program; the mutation tests run it on doctored copies, to prove each rule can fail.
 */
type Json = Record<string, unknown>;

const short = (r: Recorded) => r.type.split(':').pop()!;
const of = (rs: Recorded[], t: string) => rs.filter((r) => short(r) === t);
const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v == null ? undefined : (v as Json)[k]), o);
const str = (o: unknown, path: string) => {
  const v = get(o, path);
  return typeof v === 'string' ? v : undefined;
};

/** Every string anywhere inside a value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

const IAM_TYPES = new Set([
  'IAMMember',
  'IAMBinding',
  'IAMPolicy',
  'BucketIAMMember',
  'BucketIAMBinding',
  'TopicIAMMember',
  'SubscriptionIAMMember',
  'SecretIamMember',
  'DatasetIamMember',
  'DatasetAccess',
  'ServiceIamMember',
  'FunctionIamMember',
  'RepositoryIamMember',
]);

export interface Grant {
  kind: string;
  /** The resource the grant is on: bucket / topic / secret / dataset / service / project / account. */
  on: string;
  role: string;
  member: string;
  conditioned: boolean;
}

/** Every IAM grant, normalised. */
export function grants(resources: Recorded[]): Grant[] {
  return resources
    .filter((r) => IAM_TYPES.has(short(r)))
    .flatMap((r) => {
      const i = r.inputs;
      const on =
        short(r) === 'IAMMember'
          ? (str(i, 'serviceAccountId') ?? `project:${str(i, 'project') ?? '?'}`)
          : (str(i, 'bucket') ??
            str(i, 'topic') ??
            str(i, 'subscription') ??
            str(i, 'secretId') ??
            str(i, 'datasetId') ??
            str(i, 'repository') ??
            str(i, 'cloudFunction') ??
            str(i, 'name') ??
            '?');
      const members = Array.isArray(i.members) ? (i.members as string[]) : [str(i, 'member') ?? '?'];
      const kind =
        short(r) === 'IAMMember'
          ? i.serviceAccountId !== undefined
            ? 'ServiceAccountIAMMember'
            : 'ProjectIAMMember'
          : short(r);
      return members.map((member) => ({
        kind,
        on,
        role: str(i, 'role') ?? '?',
        member,
        conditioned: i.condition !== undefined,
      }));
    });
}

const DEFAULT_ACCOUNTS = [
  /-compute@developer\.gserviceaccount\.com$/,
  /@appspot\.gserviceaccount\.com$/,
  /@cloudbuild\.gserviceaccount\.com$/,
];
const isDefaultAccount = (email: string) => DEFAULT_ACCOUNTS.some((re) => re.test(email));
const emailOf = (member: string) => member.replace(/^serviceAccount:/, '');
const key = (g: Pick<Grant, 'kind' | 'role'>) => `${g.kind} ${g.role}`;

/** What each function's identity may hold, and nothing more (kind of grant + role). */
export const FUNCTION_GRANTS = {
  extract: [
    'BucketIAMMember roles/storage.objectCreator',
    'BucketIAMMember roles/storage.objectViewer',
    'TopicIAMMember roles/pubsub.publisher',
    'SecretIamMember roles/secretmanager.secretAccessor',
  ],
  load: [
    'BucketIAMMember roles/storage.objectViewer',
    'DatasetIamMember roles/bigquery.dataEditor',
    'ProjectIAMMember roles/bigquery.jobUser',
  ],
} as const;

const FORBIDDEN_PROJECT_ROLES = new Set([
  'roles/owner',
  'roles/editor',
  'roles/viewer',
  'roles/iam.securityAdmin',
  'roles/iam.serviceAccountUser',
  'roles/iam.serviceAccountTokenCreator',
  'roles/iam.serviceAccountAdmin',
  'roles/iam.serviceAccountKeyAdmin',
  'roles/iam.workloadIdentityUser',
]);

export function securityViolations(resources: Recorded[]): string[] {
  const v: string[] = [];
  const allGrants = grants(resources);
  const accounts = new Map(of(resources, 'Account').map((a) => [str(a.state, 'email')!, a]));
  const functions = of(resources, 'Function');
  const fnByStage = new Map(functions.map((f) => [str(f.inputs, 'buildConfig.entryPoint')!, f]));

  // No public principal, anywhere in any input.
  for (const r of resources) {
    for (const s of strings(r.inputs)) {
      if (/\ballUsers\b|\ballAuthenticatedUsers\b/.test(s)) v.push(`${r.name}: public principal ${s}`);
    }
  }

  // Functions: one dedicated identity each, built by a dedicated identity, internal ingress.
  if (functions.length === 0) v.push('no functions');
  const runtimeEmails = functions.map((f) => str(f.inputs, 'serviceConfig.serviceAccountEmail'));
  for (const f of functions) {
    const email = str(f.inputs, 'serviceConfig.serviceAccountEmail');
    if (!email) v.push(`${f.name}: no service account (would run as the default compute account)`);
    else if (isDefaultAccount(email)) v.push(`${f.name}: runs as a default account ${email}`);
    else if (!accounts.has(email)) v.push(`${f.name}: runs as ${email}, not an account of this stack`);
    const build = str(f.inputs, 'buildConfig.serviceAccount');
    if (!build || isDefaultAccount(build)) v.push(`${f.name}: builds as the default account`);
    const ingress = str(f.inputs, 'serviceConfig.ingressSettings');
    if (ingress !== 'ALLOW_INTERNAL_ONLY') v.push(`${f.name}: ingress ${ingress ?? 'ALLOW_ALL (default)'}`);
  }
  if (new Set(runtimeEmails).size !== runtimeEmails.length) v.push('functions share a service account');
  for (const a of accounts.values()) {
    const users = functions.filter(
      (f) => str(f.inputs, 'serviceConfig.serviceAccountEmail') === str(a.state, 'email'),
    );
    if (users.length > 1) v.push(`${str(a.state, 'email')} runs ${users.length} functions`);
  }

  // Function identities hold exactly their stage's grants.
  for (const [stage, allowed] of Object.entries(FUNCTION_GRANTS)) {
    const fn = fnByStage.get(stage);
    if (!fn) {
      v.push(`no ${stage} function`);
      continue;
    }
    const member = `serviceAccount:${str(fn.inputs, 'serviceConfig.serviceAccountEmail')}`;
    const held = allGrants.filter((g) => g.member === member);
    for (const g of held)
      if (!(allowed as readonly string[]).includes(key(g)))
        v.push(`${stage} identity holds ${key(g)} on ${g.on}`);
    for (const a of allowed) {
      const optionalSecret = a.startsWith('SecretIamMember') && of(resources, 'Secret').length === 0;
      if (!optionalSecret && !held.some((g) => key(g) === a)) v.push(`${stage} identity lacks ${a}`);
    }
  }

  // run.invoker: on each function's own service, only to the identities whose OIDC tokens call it.
  const invokers = allGrants.filter(
    (g) => g.role === 'roles/run.invoker' || g.role === 'roles/cloudfunctions.invoker',
  );
  for (const g of invokers)
    if (g.kind !== 'ServiceIamMember') v.push(`invoker granted by ${g.kind} on ${g.on}`);
  for (const f of functions) {
    const service = str(f.state, 'serviceConfig.service');
    const url = str(f.state, 'serviceConfig.uri');
    const callers = new Set<string>();
    for (const job of of(resources, 'Job')) {
      if (str(job.inputs, 'httpTarget.uri') === url)
        callers.add(`serviceAccount:${str(job.inputs, 'httpTarget.oidcToken.serviceAccountEmail')}`);
    }
    for (const sub of of(resources, 'Subscription')) {
      if (url && str(sub.inputs, 'pushConfig.pushEndpoint')?.startsWith(url)) {
        callers.add(`serviceAccount:${str(sub.inputs, 'pushConfig.oidcToken.serviceAccountEmail')}`);
      }
    }
    const granted = new Set(invokers.filter((g) => g.on === service).map((g) => g.member));
    for (const m of granted) if (!callers.has(m)) v.push(`${f.name}: ${m} may invoke it but never calls it`);
    for (const m of callers) if (!granted.has(m)) v.push(`${f.name}: caller ${m} may not invoke it`);
    if (callers.size === 0) v.push(`${f.name}: nothing calls it`);
    for (const m of callers)
      if (runtimeEmails.includes(emailOf(m))) v.push(`${f.name}: called with a function's own identity`);
  }
  for (const g of invokers) {
    if (!functions.some((f) => str(f.state, 'serviceConfig.service') === g.on))
      v.push(`invoker grant on ${g.on}, not a function service`);
  }

  // Buckets: uniform access, public access prevention; the lake has lifecycle rules.
  const buckets = of(resources, 'Bucket');
  for (const b of buckets) {
    if (b.inputs.uniformBucketLevelAccess !== true) v.push(`${b.name}: uniform bucket-level access off`);
    if (b.inputs.publicAccessPrevention !== 'enforced')
      v.push(`${b.name}: public access prevention not enforced`);
  }
  const lake = buckets.find((b) => b.name.startsWith('lake'));
  if (!lake) v.push('no lake bucket');
  else if (!Array.isArray(lake.inputs.lifecycleRules) || lake.inputs.lifecycleRules.length === 0)
    v.push('lake bucket has no lifecycle rules');

  // Secret: pinned version, read only by extract, on that one secret.
  for (const f of functions) {
    for (const s of (get(f.inputs, 'serviceConfig.secretEnvironmentVariables') as Json[] | undefined) ?? []) {
      const version = str(s, 'version');
      const versions = of(resources, 'SecretVersion').map((sv) => str(sv.state, 'version'));
      if (!version || version === 'latest' || !versions.includes(version))
        v.push(`${f.name}: secret ${str(s, 'secret')} not pinned to a managed version (${version})`);
    }
  }
  for (const g of allGrants.filter((g) => g.role === 'roles/secretmanager.secretAccessor')) {
    if (g.kind !== 'SecretIamMember') v.push(`secret access granted by ${g.kind} on ${g.on}`);
  }

  // Project-level grants: never basic or impersonation roles; project IAM admin only with a condition.
  for (const g of allGrants.filter((g) => g.on.startsWith('project:'))) {
    if (FORBIDDEN_PROJECT_ROLES.has(g.role)) v.push(`project-level ${g.role} to ${g.member}`);
    if (g.role === 'roles/resourcemanager.projectIamAdmin' && !g.conditioned)
      v.push(`unconditioned project IAM admin for ${g.member}`);
  }

  // Cloud Build: its own account, not a default one, with no basic role anywhere.
  for (const t of of(resources, 'Trigger')) {
    const sa = str(t.inputs, 'serviceAccount');
    if (!sa) v.push(`${t.name}: runs as the default Cloud Build account`);
    else {
      const email = sa.replace(/^projects\/[^/]+\/serviceAccounts\//, '');
      if (isDefaultAccount(email) || !accounts.has(email))
        v.push(`${t.name}: runs as ${email}, not its own account`);
      if (runtimeEmails.includes(email)) v.push(`${t.name}: shares an identity with a function`);
      for (const g of allGrants.filter((g) => g.member === `serviceAccount:${email}`)) {
        if (['roles/owner', 'roles/editor'].includes(g.role))
          v.push(`${t.name}: build account holds ${g.role}`);
      }
    }
  }

  // Dead letters: every dead-letter topic has a subscription, or they are dropped.
  for (const s of of(resources, 'Subscription')) {
    const dlq = str(s.inputs, 'deadLetterPolicy.deadLetterTopic');
    if (dlq && !of(resources, 'Subscription').some((o) => str(o.inputs, 'topic') === dlq)) {
      v.push(`${s.name}: dead-letter topic ${dlq} has no subscription`);
    }
  }
  return v;
}
