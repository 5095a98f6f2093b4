import type { StepNeeds } from './diagnose.js';
import type { CloudCheckIo } from './progress.js';

/** What each step needs, so that its failure can name the missing role or API. */
export const NEEDS = {
  functions: { roles: ['roles/cloudfunctions.viewer'], api: 'cloudfunctions.googleapis.com' },
  staging: { roles: ['roles/bigquery.dataEditor'], api: 'bigquery.googleapis.com' },
  dryRun: {
    roles: ['roles/bigquery.jobUser (and roles/bigquery.dataViewer on the dataset)'],
    api: 'bigquery.googleapis.com',
  },
  scheduler: {
    roles: ['roles/cloudscheduler.jobRunner', 'roles/cloudscheduler.admin'],
    api: 'cloudscheduler.googleapis.com',
  },
  monitoring: { roles: ['roles/monitoring.viewer'], api: 'monitoring.googleapis.com' },
} satisfies Record<string, StepNeeds>;

/** Collects the outcome of each step and prints it as it happens. */
export class Report {
  failures = 0;
  constructor(private readonly io: CloudCheckIo) {}
  ok(text: string): void {
    this.io.out(`ok ${text}`);
  }
  info(text: string): void {
    this.io.out(`   ${text}`);
  }
  warn(text: string, hints: string[] = []): void {
    this.io.out(`WARN ${text}`);
    for (const h of hints) this.io.out(`   -> ${h}`);
  }
  fail(text: string, hints: string[] = []): void {
    this.failures++;
    this.io.out(`FAILED ${text}`);
    for (const h of hints) this.io.out(`   -> ${h}`);
  }
}
