import { UsageError } from './usage-error.js';
import { lookerStudioUrl } from '../../../dashboards/looker-studio-url.js';

export interface LookerStudioUrlOptions {
  project: string | undefined;
  dataset: string | undefined;
  templateReportId?: string;
  out: (line: string) => void;
}

/** The dataset `pulumi up` creates unless configured otherwise (infra/config.ts). */
export const DEFAULT_DATASET = 'crypto_market';

/**
 * `crypto-pipeline looker-studio-url --project P [--dataset D]`: prints the Linking API URL that
 * opens the dashboard as a new Looker Studio report on that project's views (the same URL as the
 * stack output lookerStudioReportUrl).
 */
export function lookerStudioUrlCommand(options: LookerStudioUrlOptions): number {
  if (!options.project)
    throw new UsageError('looker-studio-url needs --project, the GCP project that holds the dataset');
  try {
    options.out(
      lookerStudioUrl({
        project: options.project,
        dataset: options.dataset ?? DEFAULT_DATASET,
        templateReportId: options.templateReportId,
      }),
    );
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return 0;
}
