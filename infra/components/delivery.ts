import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions, TYPE } from './common.js';

export interface DeliveryArgs {
  project: string;
  region: string;
  prefix: string;
  topic: gcp.pubsub.Topic;
  deadLetterTopic: gcp.pubsub.Topic;
  subscriptionName: string;
  /** The load function's Cloud Run service (full resource name) and URL. */
  loadService: pulumi.Input<string>;
  loadUrl: pulumi.Input<string>;
  loadTimeoutSeconds: number;
  maxDeliveryAttempts: number;
  labels: Record<string, string>;
}

/** Pub/Sub's largest ack deadline for push. */
const MAX_ACK_DEADLINE_SECONDS = 600;

/**
 * Pub/Sub push from the events topic to the load function: its own identity (OIDC token whose
 * audience is the load URL; the only principal allowed to invoke the load service), backoff between
 * redeliveries, and a dead-letter topic after `maxDeliveryAttempts`, so a poison message never
 * loops (ARCHITECTURE.md §4). The Pub/Sub service agent gets exactly what dead-lettering needs:
 * publish on the dead-letter topic, subscribe on this subscription.
 */
export class Delivery extends pulumi.ComponentResource {
  readonly serviceAccount: gcp.serviceaccount.Account;
  readonly subscription: gcp.pubsub.Subscription;
  /** Seconds Pub/Sub waits for the load to answer; at least the load's timeout. */
  readonly ackDeadlineSeconds: number;

  constructor(name: string, args: DeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${TYPE}:Delivery`, name, {}, opts);
    this.ackDeadlineSeconds = Math.min(MAX_ACK_DEADLINE_SECONDS, args.loadTimeoutSeconds + 30);
    if (this.ackDeadlineSeconds < args.loadTimeoutSeconds) {
      throw new Error(
        `load timeout ${args.loadTimeoutSeconds}s exceeds Pub/Sub's largest ack deadline (${MAX_ACK_DEADLINE_SECONDS}s)`,
      );
    }

    this.serviceAccount = new gcp.serviceaccount.Account(
      `${name}-sa`,
      {
        project: args.project,
        accountId: `${args.prefix}-push`,
        displayName: 'crypto pipeline: Pub/Sub push to load',
        description: 'Identity in the OIDC token Pub/Sub pushes events to the load function with.',
      },
      childOptions(this, opts),
    );
    const invoker = new gcp.cloudrunv2.ServiceIamMember(
      `${name}-load-invoker`,
      {
        project: args.project,
        location: args.region,
        name: args.loadService,
        role: 'roles/run.invoker',
        member: this.serviceAccount.member,
      },
      { parent: this },
    );

    const agent = new gcp.projects.ServiceIdentity(
      `${name}-pubsub-agent`,
      { project: args.project, service: 'pubsub.googleapis.com' },
      childOptions(this, opts),
    );
    // Projects created before 2021-04-08 need this for Pub/Sub to mint the push OIDC token; it is
    // granted on the push identity only.
    const tokenCreator = new gcp.serviceaccount.IAMMember(
      `${name}-agent-token-creator`,
      {
        serviceAccountId: this.serviceAccount.name,
        role: 'roles/iam.serviceAccountTokenCreator',
        member: agent.member,
      },
      { parent: this },
    );
    const deadLetterPublisher = new gcp.pubsub.TopicIAMMember(
      `${name}-agent-dead-letter-publisher`,
      {
        project: args.project,
        topic: args.deadLetterTopic.name,
        role: 'roles/pubsub.publisher',
        member: agent.member,
      },
      { parent: this },
    );

    this.subscription = new gcp.pubsub.Subscription(
      `${name}-push`,
      {
        project: args.project,
        name: args.subscriptionName,
        topic: args.topic.id,
        ackDeadlineSeconds: this.ackDeadlineSeconds,
        pushConfig: {
          // The path lets the Functions Framework name the topic in the CloudEvent it builds from
          // the push envelope (functions-framework-nodejs src/pubsub_middleware.ts).
          pushEndpoint: pulumi.interpolate`${args.loadUrl}/projects/${args.project}/topics/${args.topic.name}`,
          oidcToken: { serviceAccountEmail: this.serviceAccount.email, audience: args.loadUrl },
        },
        retryPolicy: { minimumBackoff: '10s', maximumBackoff: '600s' },
        deadLetterPolicy: {
          deadLetterTopic: args.deadLetterTopic.id,
          maxDeliveryAttempts: args.maxDeliveryAttempts,
        },
        messageRetentionDuration: '604800s',
        expirationPolicy: { ttl: '' },
        labels: args.labels,
      },
      { parent: this, dependsOn: [invoker, tokenCreator, deadLetterPublisher] },
    );
    new gcp.pubsub.SubscriptionIAMMember(
      `${name}-agent-subscriber`,
      {
        project: args.project,
        subscription: this.subscription.name,
        role: 'roles/pubsub.subscriber',
        member: agent.member,
      },
      { parent: this },
    );
    this.registerOutputs({ subscription: this.subscription.name, serviceAccount: this.serviceAccount.email });
  }
}
