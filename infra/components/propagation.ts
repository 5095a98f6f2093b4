import type * as pulumi from '@pulumi/pulumi';
import * as time from '@pulumiverse/time';

/**
 * Waits for eventual consistency that Google's APIs do not expose. A create call that returns does
 * not mean the rest of Google sees the result yet, and a first `pulumi up` on an empty project
 * otherwise fails half way:
 *
 * - a newly enabled API answers SERVICE_DISABLED for a while (Google's Cloud Functions examples
 *   wait about a minute after enabling);
 * - an IAM grant takes up to minutes to apply: a function build that starts at once runs as a build
 *   account that cannot yet read its source or push its image (hashicorp/terraform-provider-google
 *   #20571; Google's `cloudfunctions2_basic_builder` example sleeps 60 s before the function);
 * - an alert policy on a log-based metric created in the same run fails with "Cannot find
 *   metric(s) … it could take up to 10 minutes" (terraform-provider-google#11102).
 *
 * Each wait is a `time.Sleep` of @pulumiverse/time (the Pulumi bridge of HashiCorp's `time`
 * provider, the `time_sleep` those reports recommend): it sleeps when it is created, that is when
 * what it waits for is new, and not on later `up`s. Its `triggers` name what it waits for, so a
 * replaced resource is waited for again.
 */
export const PROPAGATION_SECONDS = {
  /** After the APIs are enabled, before any resource that uses them. */
  apis: 60,
  /** After the build and runtime accounts' grants, before the functions are built. */
  iam: 60,
  /** After the log-based metric, before the alert policy on it. */
  logMetric: 180,
} as const;

export interface PropagationArgs {
  /** What to wait for: the sleep starts once these exist. */
  after: pulumi.Input<pulumi.Resource>[];
  seconds: number;
  /** Values naming what is waited for; when one changes, the sleep (and the wait) happens again. */
  triggers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * A sleep of `seconds` after `after`; give it to `dependsOn` of whatever needs the result to have
 * propagated. `parent` is the component it belongs to (its children are named `${name}-…`).
 */
export function propagationWait(name: string, args: PropagationArgs, parent: pulumi.Resource): time.Sleep {
  if (!(args.seconds > 0)) throw new Error(`${name}: a propagation wait needs a positive duration`);
  return new time.Sleep(
    name,
    { createDuration: `${args.seconds}s`, ...(args.triggers ? { triggers: args.triggers } : {}) },
    { parent, dependsOn: args.after },
  );
}
