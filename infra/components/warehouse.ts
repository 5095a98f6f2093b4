import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { BigQueryTableSpec } from '../../functions/src/schema/bigquery-schema.js';
import type { ViewDef } from '../sql-views.js';
import { childOptions, TYPE } from './common.js';

export interface WarehouseArgs {
  project: string;
  datasetId: string;
  location: string;
  /** From the schema source of truth (functions/src/schema), never typed here. */
  tables: readonly BigQueryTableSpec[];
  /** From sql/views, in creation order. */
  views: readonly ViewDef[];
  /** Deletion protection on tables, and no deleting a dataset that still holds tables. */
  protectData: boolean;
  labels: Record<string, string>;
}

/**
 * The BigQuery star schema: the dataset, every table of the schema source of truth with its
 * partitioning, clustering and partition-filter requirement, and the views Looker Studio reads.
 */
export class Warehouse extends pulumi.ComponentResource {
  readonly dataset: gcp.bigquery.Dataset;
  readonly datasetId: pulumi.Output<string>;
  readonly tables: Record<string, gcp.bigquery.Table>;
  readonly views: Record<string, gcp.bigquery.Table>;

  constructor(name: string, args: WarehouseArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${TYPE}:Warehouse`, name, {}, opts);
    this.dataset = new gcp.bigquery.Dataset(
      `${name}-dataset`,
      {
        project: args.project,
        datasetId: args.datasetId,
        location: args.location,
        description:
          'CoinGecko market snapshots: star schema loaded by the crypto-market-pipeline load function.',
        deleteContentsOnDestroy: !args.protectData,
        labels: args.labels,
      },
      childOptions(this, opts),
    );

    this.tables = {};
    for (const spec of args.tables) {
      this.tables[spec.tableId] = new gcp.bigquery.Table(
        `${name}-${spec.tableId}`,
        {
          project: args.project,
          datasetId: this.dataset.datasetId,
          tableId: spec.tableId,
          description: spec.description,
          schema: JSON.stringify(spec.schema),
          timePartitioning: spec.timePartitioning,
          requirePartitionFilter: spec.requirePartitionFilter,
          clusterings: spec.clustering,
          deletionProtection: args.protectData,
          labels: args.labels,
        },
        { parent: this },
      );
    }

    // A view's query is checked against what it reads when it is created: the tables, and the
    // views it names.
    this.views = {};
    for (const view of args.views) {
      const missing = view.reads.filter((v) => !(v in this.views) && !(v in this.tables));
      if (missing.length > 0)
        throw new Error(`view ${view.name} reads ${missing.join(', ')}, which come later or not at all`);
      this.views[view.name] = new gcp.bigquery.Table(
        `${name}-${view.name}`,
        {
          project: args.project,
          datasetId: this.dataset.datasetId,
          tableId: view.name,
          description: view.description,
          view: { query: view.query, useLegacySql: false },
          // A view holds no data: replacing it loses nothing.
          deletionProtection: false,
          labels: args.labels,
        },
        {
          parent: this,
          dependsOn: [
            ...Object.values(this.tables),
            ...view.reads.filter((v) => v in this.views).map((v) => this.views[v]!),
          ],
        },
      );
    }

    this.datasetId = this.dataset.datasetId;
    this.registerOutputs({
      datasetId: this.datasetId,
      tables: Object.keys(this.tables),
      views: Object.keys(this.views),
    });
  }
}
