import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions, TYPE } from './common.js';

export interface BackfillRequestsArgs {
  project: string;
  region: string;
  prefix: string;
  /** The extract function's Cloud Run service (full resource name) and URL. */
  extractService: pulumi.Input<string>;
  extractUrl: pulumi.Input<string>;
  extractTimeoutSeconds: number;
  maxDeliveryAttempts: number;
  labels: Record<string, string>;
}

/** Pub/Sub's largest ack deadline for push. */
const MAX_ACK_DEADLINE_SECONDS = 600;
const WEEK = '604800s';

/**
 * The cloud backfill's fan-out: a `backfill-requests` topic (one message per chunk, README
 * "Backfill history") pushed to the extract function. Extract runs one instance handling one
 * request at a time with one CoinGecko client, so however many chunks are queued the calls keep
 * the plan's rate, shared with the scheduled runs; a chunk that fails transiently answers 503 and
 * Pub/Sub redelivers it with backoff, and one that keeps failing lands in the dead-letter topic
 * (with a subscription that never expires) instead of looping. Security as ARCHITECTURE.md §5: the
 * push has its own identity, the only new principal allowed to invoke extract; the Pub/Sub service
 * agent gets exactly what dead-lettering needs. Extract's own identity already holds what a chunk
 * needs (lake create and read, events publish, the key).
 */
export class BackfillRequests extends pulumi.ComponentResource {
  readonly topic: gcp.pubsub.Topic;
  readonly deadLetterTopic: gcp.pubsub.Topic;
  readonly deadLetterSubscription: gcp.pubsub.Subscription;
  readonly subscription: gcp.pubsub.Subscription;
  readonly serviceAccount: gcp.serviceaccount.Account;

  constructor(name: string, args: BackfillRequestsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${TYPE}:BackfillRequests`, name, {}, opts);
    const { project, prefix } = args;
    // A chunk is one call, far shorter than extract's timeout; should one outlast the deadline, the
    // redelivery it causes is harmless (create-only lake key, idempotent load).
    const ackDeadlineSeconds = Math.min(MAX_ACK_DEADLINE_SECONDS, args.extractTimeoutSeconds + 30);

    this.topic = new gcp.pubsub.Topic(
      `${name}-topic`,
      { project, name: `${prefix}-backfill-requests`, labels: args.labels },
      childOptions(this, opts),
    );
    this.deadLetterTopic = new gcp.pubsub.Topic(
      `${name}-dead-letter`,
      { project, name: `${prefix}-backfill-requests-dead-letter`, labels: args.labels },
      childOptions(this, opts),
    );
    this.deadLetterSubscription = new gcp.pubsub.Subscription(
      `${name}-dead-letter-sub`,
      {
        project,
        name: `${prefix}-backfill-requests-dead-letter`,
        topic: this.deadLetterTopic.id,
        ackDeadlineSeconds: 60,
        messageRetentionDuration: WEEK,
        retainAckedMessages: false,
        expirationPolicy: { ttl: '' },
        labels: args.labels,
      },
      { parent: this },
    );

    this.serviceAccount = new gcp.serviceaccount.Account(
      `${name}-sa`,
      {
        project,
        accountId: `${prefix}-backfill-push`,
        displayName: 'crypto pipeline: Pub/Sub push of backfill requests to extract',
        description: 'Identity in the OIDC token Pub/Sub pushes backfill chunk requests to extract with.',
      },
      childOptions(this, opts),
    );
    const invoker = new gcp.cloudrunv2.ServiceIamMember(
      `${name}-extract-invoker`,
      {
        project,
        location: args.region,
        name: args.extractService,
        role: 'roles/run.invoker',
        member: this.serviceAccount.member,
      },
      { parent: this },
    );

    const agent = new gcp.projects.ServiceIdentity(
      `${name}-pubsub-agent`,
      { project, service: 'pubsub.googleapis.com' },
      childOptions(this, opts),
    );
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
      { project, topic: this.deadLetterTopic.name, role: 'roles/pubsub.publisher', member: agent.member },
      { parent: this },
    );

    this.subscription = new gcp.pubsub.Subscription(
      `${name}-push`,
      {
        project,
        name: `${prefix}-backfill-requests-to-extract`,
        topic: this.topic.id,
        ackDeadlineSeconds,
        pushConfig: {
          pushEndpoint: pulumi.interpolate`${args.extractUrl}/backfill`,
          oidcToken: { serviceAccountEmail: this.serviceAccount.email, audience: args.extractUrl },
        },
        retryPolicy: { minimumBackoff: '10s', maximumBackoff: '600s' },
        deadLetterPolicy: {
          deadLetterTopic: this.deadLetterTopic.id,
          maxDeliveryAttempts: args.maxDeliveryAttempts,
        },
        messageRetentionDuration: WEEK,
        expirationPolicy: { ttl: '' },
        labels: args.labels,
      },
      { parent: this, dependsOn: [invoker, tokenCreator, deadLetterPublisher] },
    );
    new gcp.pubsub.SubscriptionIAMMember(
      `${name}-agent-subscriber`,
      {
        project,
        subscription: this.subscription.name,
        role: 'roles/pubsub.subscriber',
        member: agent.member,
      },
      { parent: this },
    );
    this.registerOutputs({
      topic: this.topic.name,
      subscription: this.subscription.name,
      deadLetterSubscription: this.deadLetterSubscription.name,
      serviceAccount: this.serviceAccount.email,
    });
  }
}
