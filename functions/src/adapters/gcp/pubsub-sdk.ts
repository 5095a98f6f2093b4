/**
 * The Pub/Sub client, re-exported through an ES module so that it can be imported lazily from a
 * split bundle, as bigquery-sdk.ts does for BigQuery.
 */
export { PubSub } from '@google-cloud/pubsub';
