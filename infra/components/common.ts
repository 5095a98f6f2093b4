import type * as pulumi from '@pulumi/pulumi';

/** Type token prefix of every component of this program. */
export const TYPE = 'crypto-market-pipeline:infra';

type DependsOn = pulumi.ResourceOptions['dependsOn'];

const asList = (d: DependsOn): pulumi.Input<pulumi.Resource>[] =>
  d === undefined ? [] : Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>];

/**
 * Options for a component's children: parented to it, and waiting for whatever the component was
 * told to wait for. Pulumi does not hand a component's `dependsOn` down to its children, yet the one
 * thing every component waits for (the enabled APIs) must hold for each resource it creates.
 */
export function childOptions(
  parent: pulumi.ComponentResource,
  opts: pulumi.ComponentResourceOptions | undefined,
  extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
  return { ...extra, parent, dependsOn: [...asList(opts?.dependsOn), ...asList(extra.dependsOn)] };
}

/** Labels on everything that takes labels, to find (and cost) the pipeline's resources. */
export function labels(stack: string): Record<string, string> {
  return { app: 'crypto-market-pipeline', stack: stack.toLowerCase().replace(/[^a-z0-9_-]/g, '-') };
}
