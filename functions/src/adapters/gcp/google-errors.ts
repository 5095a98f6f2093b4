/**
 * What the Google clients throw, read without depending on their error classes: Storage and
 * BigQuery each bundle their own copy of `ApiError` (so `instanceof` is unreliable), and network
 * failures come from node-fetch / gaxios with a string `code`; our own REST client's errors
 * (google-rest.ts) carry the HTTP status. The adapters classify from these facts alone.
 */

import { GoogleApiError, RequestTimeoutError } from './google-rest.js';

/** One entry of a JSON API error's `errors[]` (or a BigQuery job's `status.errorResult`). */
export interface GoogleErrorItem {
  reason?: string;
  message?: string;
  location?: string;
}

export interface GoogleErrorFacts {
  /** HTTP status, when the server answered. */
  status?: number;
  /** Node / fetch error code (`ECONNRESET`, `ETIMEDOUT`...) when the request never got an answer. */
  networkCode?: string;
  reasons: string[];
  message: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Extracts status, reasons and message from anything a Google client may reject with. */
export function googleErrorFacts(error: unknown): GoogleErrorFacts {
  const message = error instanceof Error ? error.message : String(error);
  // Our own REST client's errors (google-rest.ts) carry the status, or say no answer came in time.
  if (error instanceof GoogleApiError) {
    return { status: error.status, reasons: error.reason === undefined ? [] : [error.reason], message };
  }
  if (error instanceof RequestTimeoutError) return { networkCode: 'TIMEOUT', reasons: [], message };
  if (!isRecord(error)) return { reasons: [], message };
  const code = error.code;
  const items = Array.isArray(error.errors) ? error.errors.filter(isRecord) : [];
  const reasons = items.map((i) => i.reason).filter((r): r is string => typeof r === 'string');
  const messages = items.map((i) => i.message).filter((m): m is string => typeof m === 'string');
  const all = [message, ...messages.filter((m) => !message.includes(m))].join('; ');
  // The clients put the HTTP status in `code` (a number); network errors put a string there.
  if (typeof code === 'number' && code >= 100 && code < 600) return { status: code, reasons, message: all };
  if (typeof code === 'string' && /^[A-Z_0-9]+$/.test(code)) {
    return { networkCode: code, reasons, message: all };
  }
  // fetch wraps the socket error: TypeError('fetch failed') with the system error as its cause.
  const causeCode = isRecord(error.cause) ? error.cause.code : undefined;
  if (typeof causeCode === 'string')
    return { networkCode: causeCode, reasons, message: `${all} (${causeCode})` };
  if (error.name === 'TimeoutError' || error.name === 'AbortError')
    return { networkCode: 'TIMEOUT', reasons, message: all };
  return { reasons, message: all };
}

/** HTTP statuses worth another attempt: throttling and server-side failures. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
