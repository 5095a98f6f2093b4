import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions, TYPE } from './common.js';

export interface EventBusArgs {
  project: string;
  topicName: string;
  deadLetterTopicName: string;
  deadLetterSubscriptionName: string;
  labels: Record<string, string>;
}

/** One week: the longest Pub/Sub keeps an unacknowledged message by default, and time to notice. */
const WEEK = '604800s';

/**
 * The events topic extract publishes run pointers to (ARCHITECTURE.md §3 "Event"), and the
 * dead-letter topic with the pull subscription that holds what could not be delivered, for
 * inspection and replay. The push subscription that connects the topic to the load function is in
 * Delivery, which needs the function first.
 */
export class EventBus extends pulumi.ComponentResource {
  readonly topic: gcp.pubsub.Topic;
  readonly deadLetterTopic: gcp.pubsub.Topic;
  readonly deadLetterSubscription: gcp.pubsub.Subscription;

  constructor(name: string, args: EventBusArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${TYPE}:EventBus`, name, {}, opts);
    this.topic = new gcp.pubsub.Topic(
      `${name}-topic`,
      { project: args.project, name: args.topicName, labels: args.labels },
      childOptions(this, opts),
    );
    this.deadLetterTopic = new gcp.pubsub.Topic(
      `${name}-dead-letter`,
      { project: args.project, name: args.deadLetterTopicName, labels: args.labels },
      childOptions(this, opts),
    );
    // Without a subscription, messages published to the dead-letter topic are simply dropped.
    this.deadLetterSubscription = new gcp.pubsub.Subscription(
      `${name}-dead-letter-sub`,
      {
        project: args.project,
        name: args.deadLetterSubscriptionName,
        topic: this.deadLetterTopic.id,
        ackDeadlineSeconds: 60,
        messageRetentionDuration: WEEK,
        retainAckedMessages: false,
        // Subscriptions expire after 31 idle days by default; one that is only read when something
        // broke must never expire.
        expirationPolicy: { ttl: '' },
        labels: args.labels,
      },
      { parent: this },
    );
    this.registerOutputs({
      topic: this.topic.name,
      deadLetterTopic: this.deadLetterTopic.name,
      deadLetterSubscription: this.deadLetterSubscription.name,
    });
  }
}
