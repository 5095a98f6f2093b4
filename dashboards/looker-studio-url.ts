import { DASHBOARD, viewsUsed, type DashboardDef } from './definition.js';

/** Looker Studio's Linking API endpoint: opens a new, unsaved report configured by the URL. */
export const LINKING_API_BASE = 'https://lookerstudio.google.com/reporting/create';

export interface LookerStudioTarget {
  /** GCP project that holds the dataset (and, by default, is billed for the queries). */
  project: string;
  /** BigQuery dataset with the views (Pulumi output bigqueryDataset). */
  dataset: string;
  /**
   * A Looker Studio report to copy, whose data sources carry the aliases of this definition (the
   * view names). Without one, the Linking API starts from a blank report and adds the data sources.
   */
  templateReportId?: string;
  /** Project billed for the report's queries, when not the data's own project. */
  billingProject?: string;
}

/** Linking API data source alias of a view: the view name itself (letters, digits, underscores). */
export const dataSourceAlias = (view: string): string => view;

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const DATASET_ID = /^[A-Za-z0-9_]{1,1024}$/;

/**
 * The Linking API URL for the dashboard: one BigQuery data source per view the definition uses
 * (`ds.<alias>.connector=bigQuery`, `type=TABLE`, `projectId`, `datasetId`, `tableId`), named after
 * the view. Views are used as tables: the ones over the partition-filtered fact either bound
 * themselves or expose snapshot_date, which Looker Studio takes as the date range dimension (see
 * dashboards/README.md for what that relies on).
 */
export function lookerStudioUrl(target: LookerStudioTarget, dashboard: DashboardDef = DASHBOARD): string {
  if (!PROJECT_ID.test(target.project))
    throw new Error(`not a GCP project id: ${JSON.stringify(target.project)}`);
  if (!DATASET_ID.test(target.dataset))
    throw new Error(`not a BigQuery dataset id: ${JSON.stringify(target.dataset)}`);
  if (target.billingProject !== undefined && !PROJECT_ID.test(target.billingProject))
    throw new Error(`not a GCP project id: ${JSON.stringify(target.billingProject)}`);
  const params: [string, string][] = [];
  if (target.templateReportId) params.push(['c.reportId', target.templateReportId]);
  params.push(['r.reportName', dashboard.title]);
  for (const view of viewsUsed(dashboard)) {
    const ds = `ds.${dataSourceAlias(view)}`;
    params.push(
      [`${ds}.connector`, 'bigQuery'],
      [`${ds}.type`, 'TABLE'],
      [`${ds}.projectId`, target.project],
      [`${ds}.datasetId`, target.dataset],
      [`${ds}.tableId`, view],
      [`${ds}.datasourceName`, `${dashboard.title}: ${view}`],
    );
    if (target.billingProject) params.push([`${ds}.billingProjectId`, target.billingProject]);
  }
  // encodeURIComponent rather than URLSearchParams: spaces as %20, as the Linking API documents them.
  const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return `${LINKING_API_BASE}?${query}`;
}
