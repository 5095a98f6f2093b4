import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { QUALITY_CHECK_FAILED } from '../../functions/src/quality/log-failures.js';
import { childOptions, TYPE } from './common.js';
import { PROPAGATION_SECONDS, propagationWait } from './propagation.js';

export interface MonitoringArgs {
  project: string;
  prefix: string;
  /** Names of the functions (= their Cloud Run services). */
  functionNames: pulumi.Input<string>[];
  /** The push subscription feeding load, and the dead-letter subscription. */
  eventsSubscription: pulumi.Input<string>;
  deadLetterSubscription: pulumi.Input<string>;
  /** Alert when no run has been loaded for this long. */
  freshnessAlertMinutes: number;
  /** Optional e-mail notification channel; without it the incidents still show in the console. */
  alertEmail: string | undefined;
}

/**
 * Five alerts, none needing a BigQuery query (which would cost money every few minutes):
 * - function errors: a log-based metric counting ERROR (and worse) entries of either function;
 * - dead-letter backlog: any message waiting in the dead-letter subscription;
 * - freshness: no push to load acknowledged (a run loaded, or terminally recorded) for
 *   `freshnessAlertMinutes`. Terminal failures are acknowledged too, but they also log errors, so
 *   the errors alert covers them;
 * - data quality: log-based metrics counting the entries load writes per failed quality check
 *   (functions/src/quality/log-failures.ts), labelled by check; an integrity error alerts at once,
 *   warnings (suspicious source data, common in CoinGecko's own numbers) only when they persist.
 */
export class Monitoring extends pulumi.ComponentResource {
  readonly errorMetric: gcp.logging.Metric;
  readonly qualityErrorMetric: gcp.logging.Metric;
  readonly qualityWarningMetric: gcp.logging.Metric;
  readonly policies: gcp.monitoring.AlertPolicy[];

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${TYPE}:Monitoring`, name, {}, opts);
    const channels: pulumi.Input<string>[] = [];
    if (args.alertEmail) {
      const email = new gcp.monitoring.NotificationChannel(
        `${name}-email`,
        {
          project: args.project,
          type: 'email',
          displayName: `crypto pipeline (${args.prefix})`,
          labels: { email_address: args.alertEmail },
        },
        childOptions(this, opts),
      );
      channels.push(email.name);
    }
    const services = pulumi.all(args.functionNames).apply((names) => names.map((n) => `"${n}"`).join(' OR '));

    this.errorMetric = new gcp.logging.Metric(
      `${name}-function-errors`,
      {
        project: args.project,
        name: `${args.prefix}-function-errors`,
        description: 'Log entries at ERROR or above from the crypto pipeline functions.',
        filter: pulumi.interpolate`resource.type="cloud_run_revision" AND resource.labels.service_name=(${services}) AND severity>=ERROR`,
        metricDescriptor: { metricKind: 'DELTA', valueType: 'INT64', unit: '1' },
      },
      childOptions(this, opts),
    );

    // Monitoring learns of a new log-based metric minutes after Logging creates it; an alert policy
    // on it created sooner fails with "Cannot find metric(s)" (terraform-provider-google#11102).
    const metricReady = propagationWait(
      `${name}-metric-propagation`,
      {
        after: [this.errorMetric],
        seconds: PROPAGATION_SECONDS.logMetric,
        triggers: { metric: this.errorMetric.name },
      },
      this,
    );

    // Quality failures, by severity: one entry per failed check of a load, `code` marks them.
    const qualityMetric = (suffix: string, severity: 'ERROR' | 'WARNING', what: string) =>
      new gcp.logging.Metric(
        `${name}-${suffix}`,
        {
          project: args.project,
          name: `${args.prefix}-${suffix}`,
          description: `Data-quality checks failed with severity ${what} (one per check and run).`,
          filter: pulumi.interpolate`resource.type="cloud_run_revision" AND resource.labels.service_name=(${services}) AND jsonPayload.code="${QUALITY_CHECK_FAILED}" AND severity=${severity}`,
          labelExtractors: { check_name: 'EXTRACT(jsonPayload.checkName)' },
          metricDescriptor: {
            metricKind: 'DELTA',
            valueType: 'INT64',
            unit: '1',
            labels: [{ key: 'check_name', valueType: 'STRING', description: 'The failed check.' }],
          },
        },
        childOptions(this, opts),
      );
    this.qualityErrorMetric = qualityMetric('quality-errors', 'ERROR', 'error (integrity broken)');
    this.qualityWarningMetric = qualityMetric('quality-warnings', 'WARNING', 'warning (suspicious data)');
    // Its own wait, so that adding it to a deployed stack leaves the first metric's wait alone.
    const qualityMetricsReady = propagationWait(
      `${name}-propagation-of-quality-metrics`,
      {
        after: [this.qualityErrorMetric, this.qualityWarningMetric],
        seconds: PROPAGATION_SECONDS.logMetric,
        triggers: { errors: this.qualityErrorMetric.name, warnings: this.qualityWarningMetric.name },
      },
      this,
    );

    const common = {
      project: args.project,
      combiner: 'OR',
      notificationChannels: channels,
      alertStrategy: { autoClose: '86400s' },
    };
    const policy = (
      suffix: string,
      a: Omit<gcp.monitoring.AlertPolicyArgs, keyof typeof common>,
      extra: pulumi.CustomResourceOptions = {},
    ) =>
      new gcp.monitoring.AlertPolicy(
        `${name}-${suffix}`,
        { ...common, ...a },
        childOptions(this, opts, extra),
      );

    this.policies = [
      policy(
        'errors-alert',
        {
          displayName: `crypto pipeline (${args.prefix}): function errors`,
          severity: 'ERROR',
          documentation: {
            mimeType: 'text/markdown',
            content:
              'The extract or load function logged an error. Transient errors are retried by Scheduler and Pub/Sub; ' +
              'check ops_run / v_run_health for failed runs and the dead-letter subscription for undelivered events.',
          },
          conditions: [
            logMetricAbove0('error log entries', this.errorMetric, {
              durationSeconds: 0,
              alignmentSeconds: 300,
            }),
          ],
        },
        { dependsOn: [metricReady] },
      ),
      policy(
        'quality-errors-alert',
        {
          displayName: `crypto pipeline (${args.prefix}): data-quality errors`,
          severity: 'ERROR',
          documentation: {
            mimeType: 'text/markdown',
            content:
              'A load broke an integrity check (grain, keys, or a fact row without its dimension row): the star ' +
              'schema can no longer be trusted for that run. The load logged one entry per failed check with ' +
              'runId, checkName, observed and expected; the rows are in ops_quality_check.',
          },
          conditions: [
            logMetricAbove0('failed quality checks of severity error', this.qualityErrorMetric, {
              durationSeconds: 0,
              alignmentSeconds: 300,
            }),
          ],
        },
        { dependsOn: [qualityMetricsReady] },
      ),
      policy(
        'quality-warnings-alert',
        {
          displayName: `crypto pipeline (${args.prefix}): data-quality warnings for an hour`,
          severity: 'WARNING',
          documentation: {
            mimeType: 'text/markdown',
            content:
              'Loads have logged quality warnings (stale or contradictory source data, fewer coins than ' +
              'COIN_LIMIT, an empty response, rejected records) in every half hour for an hour. See ' +
              'ops_quality_check or `status` for the messages.',
          },
          conditions: [
            logMetricAbove0(
              'failed quality checks of severity warning, persisting',
              this.qualityWarningMetric,
              { durationSeconds: 3600, alignmentSeconds: 1800 },
            ),
          ],
        },
        { dependsOn: [qualityMetricsReady] },
      ),
      policy('dead-letter-alert', {
        displayName: `crypto pipeline (${args.prefix}): dead-lettered events`,
        severity: 'ERROR',
        documentation: {
          mimeType: 'text/markdown',
          content: pulumi.interpolate`Events could not be delivered to load after every attempt and wait in subscription ${args.deadLetterSubscription}. Inspect them (gcloud pubsub subscriptions pull ${args.deadLetterSubscription} --limit 10) and re-drive once fixed; runs are idempotent.`,
        },
        conditions: [
          {
            displayName: 'undelivered dead letters',
            conditionThreshold: {
              filter: pulumi.interpolate`metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages" AND resource.type="pubsub_subscription" AND resource.labels.subscription_id="${args.deadLetterSubscription}"`,
              comparison: 'COMPARISON_GT',
              thresholdValue: 0,
              duration: '0s',
              aggregations: [{ alignmentPeriod: '300s', perSeriesAligner: 'ALIGN_MAX' }],
              trigger: { count: 1 },
            },
          },
        ],
      }),
      policy('freshness-alert', {
        displayName: `crypto pipeline (${args.prefix}): no run loaded for ${args.freshnessAlertMinutes} min`,
        severity: 'WARNING',
        documentation: {
          mimeType: 'text/markdown',
          content:
            'No event has been acknowledged by the load function for a while: the schedule, extract, or the ' +
            'delivery to load is stuck. Check the Scheduler job, the extract logs and v_freshness.',
        },
        conditions: [
          {
            displayName: 'no acknowledged push to load',
            conditionAbsent: {
              filter: pulumi.interpolate`metric.type="pubsub.googleapis.com/subscription/push_request_count" AND resource.type="pubsub_subscription" AND resource.labels.subscription_id="${args.eventsSubscription}" AND metric.labels.response_class="ack"`,
              duration: `${args.freshnessAlertMinutes * 60}s`,
              aggregations: [
                { alignmentPeriod: '300s', perSeriesAligner: 'ALIGN_SUM', crossSeriesReducer: 'REDUCE_SUM' },
              ],
              trigger: { count: 1 },
            },
          },
        ],
      }),
    ];
    this.registerOutputs({
      errorMetric: this.errorMetric.name,
      qualityErrorMetric: this.qualityErrorMetric.name,
      qualityWarningMetric: this.qualityWarningMetric.name,
      policies: this.policies.map((p) => p.name),
    });
  }
}

/**
 * An alert condition on a log-based metric of the functions: any count above 0, summed per
 * `alignmentSeconds`, for `durationSeconds` (0: at once).
 */
function logMetricAbove0(
  displayName: string,
  metric: gcp.logging.Metric,
  window: { durationSeconds: number; alignmentSeconds: number },
): gcp.types.input.monitoring.AlertPolicyCondition {
  return {
    displayName,
    conditionThreshold: {
      filter: pulumi.interpolate`metric.type="logging.googleapis.com/user/${metric.name}" AND resource.type="cloud_run_revision"`,
      comparison: 'COMPARISON_GT',
      thresholdValue: 0,
      duration: `${window.durationSeconds}s`,
      aggregations: [
        {
          alignmentPeriod: `${window.alignmentSeconds}s`,
          perSeriesAligner: 'ALIGN_SUM',
          crossSeriesReducer: 'REDUCE_SUM',
        },
      ],
      trigger: { count: 1 },
    },
  };
}
