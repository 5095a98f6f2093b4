import type { RestClient } from '../../functions/src/adapters/gcp/google-rest.js';

/** Cloud Functions v2: the little of a function cloud-check reads. */
export interface FunctionState {
  state?: string;
  stateMessages?: { severity?: string; type?: string; message?: string }[];
  buildConfig?: { build?: string };
}

/** A project and region's Cloud Functions, Cloud Scheduler and Cloud Monitoring calls. */
export class PlatformApi {
  constructor(
    private readonly rest: RestClient,
    private readonly urls: { functions: string; scheduler: string; monitoring: string },
    private readonly project: string,
    private readonly region: string,
  ) {}

  private location(base: string, version: string): string {
    return `${base}/${version}/projects/${encodeURIComponent(this.project)}/locations/${this.region}`;
  }

  getFunction(name: string): Promise<FunctionState> {
    return this.rest.request<FunctionState>(
      'GET',
      `${this.location(this.urls.functions, 'v2')}/functions/${name}`,
    );
  }

  /** Runs the job now, as `gcloud scheduler jobs run` does (jobs.run). */
  async runJob(job: string): Promise<void> {
    await this.rest.request('POST', `${this.location(this.urls.scheduler, 'v1')}/jobs/${job}:run`, {});
  }

  /**
   * Messages waiting in a subscription: the newest sample of Pub/Sub's
   * subscription/num_undelivered_messages in the last `minutes`, or undefined when Monitoring has
   * none (it samples every minute and reports with a delay of a few minutes).
   */
  async undeliveredMessages(subscription: string, now: Date, minutes = 15): Promise<number | undefined> {
    const filter =
      'metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages" AND ' +
      `resource.type="pubsub_subscription" AND resource.labels.subscription_id="${subscription}"`;
    const query = new URLSearchParams({
      filter,
      'interval.startTime': new Date(now.getTime() - minutes * 60_000).toISOString(),
      'interval.endTime': now.toISOString(),
    });
    const answer = await this.rest.request<{
      timeSeries?: { points?: { value?: { int64Value?: string } }[] }[];
    }>('GET', `${this.urls.monitoring}/v3/projects/${encodeURIComponent(this.project)}/timeSeries?${query}`);
    // Points come newest first.
    const value = answer.timeSeries?.[0]?.points?.[0]?.value?.int64Value;
    return value === undefined ? undefined : Number(value);
  }
}

/** The Cloud Build log of a function's latest build, from `buildConfig.build` (projects/N/locations/R/builds/ID). */
export function buildLogUrl(build: string | undefined, project: string, region: string): string | undefined {
  const id = build?.split('/').pop();
  return id
    ? `https://console.cloud.google.com/cloud-build/builds;region=${region}/${id}?project=${project}`
    : undefined;
}

/** The logs of a function (its Cloud Run service). */
export function functionLogUrl(name: string, project: string, region: string): string {
  return `https://console.cloud.google.com/run/detail/${region}/${name}/logs?project=${project}`;
}
