import {
  decodeRows,
  type QueryParameter,
  type QueryResultsResponse,
} from '../../functions/src/adapters/gcp/bigquery-rows.js';
import { bigQuerySchema } from '../../functions/src/schema/bigquery-schema.js';
import type { TableDef } from '../../functions/src/schema/tables.js';
import type { RestClient } from '../../functions/src/adapters/gcp/google-rest.js';

/** The BigQuery v2 REST calls cloud-check makes, for one project, dataset and location. */
export class BigQueryApi {
  constructor(
    private readonly rest: RestClient,
    private readonly baseUrl: string,
    private readonly project: string,
    private readonly dataset: string,
    private readonly location: string,
  ) {}

  private get projectPath(): string {
    return `${this.baseUrl}/bigquery/v2/projects/${encodeURIComponent(this.project)}`;
  }

  /**
   * jobs.insert with dryRun: BigQuery parses and plans the statement against the real dataset
   * (tables, columns, types, parameters, permissions) and runs nothing. Resolves with the bytes a
   * real run would process.
   */
  async dryRun(sql: string, parameters: QueryParameter[]): Promise<number> {
    const job = await this.rest.request<{ statistics?: { totalBytesProcessed?: string } }>(
      'POST',
      `${this.projectPath}/jobs`,
      {
        jobReference: { projectId: this.project, location: this.location },
        configuration: {
          dryRun: true,
          query: { query: sql, useLegacySql: false, parameterMode: 'NAMED', queryParameters: parameters },
        },
      },
    );
    return Number(job.statistics?.totalBytesProcessed ?? 0);
  }

  /** jobs.query: a small read, waited for up to `timeoutMs` by the service. */
  async query(
    sql: string,
    parameters: QueryParameter[],
    timeoutMs: number,
  ): Promise<Record<string, unknown>[]> {
    const answer = await this.rest.request<QueryResultsResponse>('POST', `${this.projectPath}/queries`, {
      query: sql,
      useLegacySql: false,
      parameterMode: 'NAMED',
      queryParameters: parameters,
      location: this.location,
      timeoutMs,
      formatOptions: { useInt64Timestamp: true },
    });
    if (answer.jobComplete === false) throw new Error('BigQuery did not finish a small query in time');
    return decodeRows(answer);
  }

  /** An empty table with the columns of `like`, deleted by BigQuery at `expiresAt` if not before. */
  async createTable(tableId: string, like: TableDef, expiresAt: Date): Promise<void> {
    await this.rest.request(
      'POST',
      `${this.projectPath}/datasets/${encodeURIComponent(this.dataset)}/tables`,
      {
        tableReference: { projectId: this.project, datasetId: this.dataset, tableId },
        schema: { fields: bigQuerySchema(like) },
        expirationTime: String(expiresAt.getTime()),
        description: 'cloud-check: staging table for a dry run of the load scripts; expires on its own.',
      },
    );
  }

  async deleteTable(tableId: string): Promise<void> {
    await this.rest.request(
      'DELETE',
      `${this.projectPath}/datasets/${encodeURIComponent(this.dataset)}/tables/${encodeURIComponent(tableId)}`,
    );
  }
}
