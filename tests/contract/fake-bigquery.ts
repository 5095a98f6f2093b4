import {
  googleError,
  parseMultipart,
  type FakeGcpServer,
  type FakeResponse,
  type RecordedRequest,
} from '../support/fake-gcp-server.js';

/**
 * Just enough of the BigQuery v2 REST API, on the fake HTTP server, to hold jobs by id the way the
 * service does: jobs.insert (JSON and multipart upload) creates a job or answers 409 for an id
 * that exists, jobs.get reports its state, jobs.getQueryResults returns rows. Tests script the
 * odd cases (errors before creation, lost answers, running jobs, failed jobs) per job id pattern.
 */

export interface ErrorItem {
  reason: string;
  message: string;
}

export interface JobPlan {
  /** Answers to insert attempts before the job is created (429, 5xx...), used up in order. */
  insertErrors?: FakeResponse[];
  /** Create the job although the (first) insert error is answered: a lost response. */
  createdDespiteError?: boolean;
  /** The job ends with this errorResult. */
  errorResult?: ErrorItem;
  /** The job is RUNNING until the n-th jobs.get, which answers DONE (0: DONE at once). */
  runningPolls?: number;
}

export interface QueryResult {
  fields: { name: string; type: string }[];
  rows: (string | null)[][];
}

export interface FakeJob {
  id: string;
  resource: Record<string, unknown>;
  configuration: Record<string, unknown>;
  /** The NDJSON of a load job. */
  data?: string;
  runningPolls: number;
  errorResult?: ErrorItem;
}

export class FakeBigQuery {
  readonly jobs = new Map<string, FakeJob>();
  private plans: { match: RegExp; plan: JobPlan }[] = [];
  /** Rows for jobs.getQueryResults, by job. */
  results: (job: FakeJob) => QueryResult = () => ({ fields: [], rows: [] });

  constructor(
    private readonly server: FakeGcpServer,
    readonly project = 'test',
    readonly location = 'EU',
  ) {}

  /** The plan applies to the next job whose id matches (and is used up by its creation). */
  plan(match: RegExp, plan: JobPlan): this {
    this.plans.push({ match, plan: { ...plan, insertErrors: [...(plan.insertErrors ?? [])] } });
    return this;
  }

  /** Seeds a job as if an earlier delivery had created it. */
  seed(id: string, configuration: Record<string, unknown>, errorResult?: ErrorItem): FakeJob {
    const job: FakeJob = { id, resource: {}, configuration, runningPolls: 0, errorResult };
    this.jobs.set(id, job);
    return job;
  }

  install(): void {
    const base = `/bigquery/v2/projects/${this.project}`;
    this.server.on('POST', `${base}/jobs`, (req) => this.insert(JSON.parse(req.body.toString())));
    this.server.on('POST', `/upload/bigquery/v2/projects/${this.project}/jobs`, (req) => {
      const [meta, media] = parseMultipart(req);
      return this.insert(JSON.parse(meta!.body.toString()), media!.body.toString());
    });
    this.server.on('GET', new RegExp(`^${base}/jobs/[^/]+$`), (req) => {
      const job = this.jobs.get(decodeURIComponent(req.path.split('/').pop()!));
      if (job === undefined) return googleError(404, 'notFound', 'Not found: Job');
      if (job.runningPolls > 0) job.runningPolls--;
      return { body: this.resourceOf(job) };
    });
    this.server.on('GET', new RegExp(`^${base}/queries/[^/]+$`), (req) => {
      const job = this.jobs.get(decodeURIComponent(req.path.split('/').pop()!));
      if (job === undefined) return googleError(404, 'notFound', 'Not found: Job');
      const { fields, rows } = this.results(job);
      return {
        body: {
          kind: 'bigquery#getQueryResultsResponse',
          jobComplete: true,
          jobReference: { projectId: this.project, jobId: job.id, location: this.location },
          schema: { fields: fields.map((f) => ({ ...f, mode: 'NULLABLE' })) },
          rows: rows.map((r) => ({ f: r.map((v) => ({ v })) })),
          totalRows: String(rows.length),
        },
      };
    });
    this.server.on('PATCH', new RegExp(`^${base}/datasets/[^/]+/tables/[^/]+$`), (req) => ({
      body: { ...JSON.parse(req.body.toString()), tableReference: { tableId: req.path.split('/').pop() } },
    }));
  }

  /** Jobs inserted (or attempted) with ids matching `match`, in order. */
  insertsOf(match: RegExp): RecordedRequest[] {
    return this.server.requests.filter(
      (r) => r.method === 'POST' && r.path.endsWith('/jobs') && match.test(jobIdOf(r) ?? ''),
    );
  }

  private insert(resource: Record<string, unknown>, data?: string): FakeResponse {
    const id = (resource.jobReference as { jobId: string }).jobId;
    const index = this.plans.findIndex((p) => p.match.test(id));
    const plan = index < 0 ? undefined : this.plans[index]!.plan;
    const error = plan?.insertErrors?.shift();
    if (error !== undefined) {
      if (plan!.createdDespiteError === true && !this.jobs.has(id)) {
        this.plans.splice(index, 1);
        this.create(id, resource, plan!, data);
      }
      return error;
    }
    if (this.jobs.has(id)) {
      return googleError(409, 'duplicate', `Already Exists: Job ${this.project}:${this.location}.${id}`);
    }
    if (index >= 0) this.plans.splice(index, 1);
    return { body: this.resourceOf(this.create(id, resource, plan ?? {}, data)) };
  }

  private create(id: string, resource: Record<string, unknown>, plan: JobPlan, data?: string): FakeJob {
    const job: FakeJob = {
      id,
      resource,
      configuration: resource.configuration as Record<string, unknown>,
      data,
      runningPolls: plan.runningPolls ?? 0,
      errorResult: plan.errorResult,
    };
    this.jobs.set(id, job);
    return job;
  }

  private resourceOf(job: FakeJob): Record<string, unknown> {
    const done = job.runningPolls === 0;
    return {
      kind: 'bigquery#job',
      id: `${this.project}:${this.location}.${job.id}`,
      jobReference: { projectId: this.project, jobId: job.id, location: this.location },
      configuration: job.configuration,
      status: done
        ? {
            state: 'DONE',
            ...(job.errorResult ? { errorResult: job.errorResult, errors: [job.errorResult] } : {}),
          }
        : { state: 'RUNNING' },
    };
  }
}

/** The job id a jobs.insert request carries (JSON body or the first multipart part). */
export function jobIdOf(req: RecordedRequest): string | undefined {
  const text = req.path.startsWith('/upload/')
    ? parseMultipart(req)[0]!.body.toString()
    : req.body.toString();
  return (JSON.parse(text) as { jobReference?: { jobId?: string } }).jobReference?.jobId;
}

/** The job resource a jobs.insert request carries. */
export function jobResourceOf(req: RecordedRequest): Record<string, unknown> {
  const text = req.path.startsWith('/upload/')
    ? parseMultipart(req)[0]!.body.toString()
    : req.body.toString();
  return JSON.parse(text) as Record<string, unknown>;
}
