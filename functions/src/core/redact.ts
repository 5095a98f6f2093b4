/**
 * Removes secrets (the CoinGecko API key) from everything the pipeline stores or logs: raw bodies,
 * failure records, error messages and details, log lines. A proxy, a CDN error page or the API
 * itself can echo the request, key included; the lake keeps bodies for years and is readable by
 * more people than the secret, so the key must never reach it in any form.
 */

/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

/** Shorter values would be replaced inside ordinary data; no API key is that short. */
const MIN_SECRET_LENGTH = 4;

export interface Redactor {
  text(value: string): string;
  /** Byte-level, so a body that is not valid UTF-8 is otherwise kept byte for byte. */
  bytes(value: Buffer): Buffer;
  /** Strings anywhere inside plain objects and arrays (error details, log fields). */
  value<T>(value: T): T;
}

/**
 * The forms in which a secret can be echoed: verbatim, URL-encoded (upper- and lower-case
 * escapes, `+` for spaces as in forms), and escaped inside a JSON string (also with `\/`).
 */
export function secretForms(secret: string): string[] {
  const component = encodeURIComponent(secret);
  const json = JSON.stringify(secret).slice(1, -1);
  const forms = new Set([
    secret,
    component,
    component.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
    component.replace(/%20/g, '+'),
    encodeURI(secret),
    json,
    json.replace(/\//g, '\\/'),
  ]);
  // Longest first: a longer form may contain a shorter one.
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

function replaceAll(value: Buffer, form: Buffer, replacement: Buffer): Buffer {
  let at = value.indexOf(form);
  if (at === -1) return value;
  const parts: Buffer[] = [];
  let from = 0;
  while (at !== -1) {
    parts.push(value.subarray(from, at), replacement);
    from = at + form.length;
    at = value.indexOf(form, from);
  }
  parts.push(value.subarray(from));
  return Buffer.concat(parts);
}

/** A redactor for the given secrets; unset or too short ones are ignored. */
export function createRedactor(secrets: readonly (string | undefined)[]): Redactor {
  const forms = [
    ...new Set(
      secrets
        .map((s) => s?.trim())
        .filter((s): s is string => s !== undefined && s.length >= MIN_SECRET_LENGTH)
        .flatMap(secretForms),
    ),
  ].sort((a, b) => b.length - a.length);
  const formBytes = forms.map((f) => Buffer.from(f));
  const replacement = Buffer.from(REDACTED);

  const text = (value: string): string => forms.reduce((s, f) => s.split(f).join(REDACTED), value);
  const deep = (value: unknown): unknown => {
    if (typeof value === 'string') return text(value);
    if (Array.isArray(value)) return value.map(deep);
    if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deep(v)]));
    }
    return value;
  };
  return {
    text,
    bytes: (value) => formBytes.reduce((b, f) => replaceAll(b, f, replacement), value),
    value: <T>(value: T) => (forms.length === 0 ? value : (deep(value) as T)),
  };
}

/**
 * Redacts an error in place (it is rethrown to callers that log or answer with it): message, stack,
 * pipeline details, and the same for its causes (a few levels: chains are short).
 */
export function redactError(error: unknown, redactor: Redactor, depth = 3): unknown {
  if (error instanceof Error && depth > 0) {
    error.message = redactor.text(error.message);
    if (error.stack !== undefined) error.stack = redactor.text(error.stack);
    const withDetails = error as Error & { details?: Record<string, unknown> };
    if (withDetails.details !== undefined && typeof withDetails.details === 'object') {
      // PipelineError.details is readonly to callers; redacting is the one rewrite allowed.
      Object.assign(withDetails.details, redactor.value({ ...withDetails.details }));
    }
    redactError(error.cause, redactor, depth - 1);
  }
  return error;
}
