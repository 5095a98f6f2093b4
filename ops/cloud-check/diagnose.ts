import { GoogleApiError, RequestTimeoutError } from '../../functions/src/adapters/gcp/google-rest.js';

/** What a step needs, so a failure can say which role or API is missing. */
export interface StepNeeds {
  /** Predefined roles that grant the step (any one of the alternatives suffices). */
  roles: string[];
  /** The API the step calls (e.g. bigquery.googleapis.com). */
  api: string;
}

/**
 * One or two lines that say what failed and what to do about it: the API to enable, the role to
 * grant, the login to run. Never just "403".
 */
export function explain(error: unknown, needs: StepNeeds, project: string): string[] {
  if (error instanceof GoogleApiError) {
    if (error.serviceDisabled) {
      const api = error.disabledService ?? needs.api;
      return [
        `the ${api} API is not enabled in project ${project} (or was enabled moments ago): ${error.message}`,
        `enable it: gcloud services enable ${api} --project ${project} (\`pulumi up\` enables it too), then wait a minute`,
      ];
    }
    if (error.status === 401)
      return [
        `not authenticated: ${error.message}`,
        'log in with Application Default Credentials: gcloud auth application-default login',
      ];
    if (error.status === 403)
      return [
        `permission denied: ${error.message}`,
        `your account needs ${needs.roles.join(' or ')} on project ${project}: gcloud projects add-iam-policy-binding ${project} --member user:<you> --role ${needs.roles[0]}`,
      ];
    if (error.status === 404)
      return [
        `not found: ${error.message}`,
        'is the stack deployed (`pulumi up` finished) and are these its outputs?',
      ];
    return [`${needs.api} answered ${error.status}: ${error.message}`];
  }
  if (error instanceof RequestTimeoutError) return [error.message, 'check your network, then try again'];
  return [error instanceof Error ? error.message : String(error)];
}
