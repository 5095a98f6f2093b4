/**
 * A minimal Google REST client, for the extract function's Pub/Sub publish and for the ops commands
 * (cloud-check, replay and backfill against a stack): JSON over fetch, a bearer token, a timeout on
 * every request (a call must fail, never hang), and Google's error body turned into facts a person
 * can act on (status, reason, the API that is disabled).
 */

/** An answer other than 2xx from a Google API. */
export class GoogleApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly url: string,
    /** `error.status` (e.g. PERMISSION_DENIED) or the first `errors[].reason`. */
    readonly reason: string | undefined,
    /** For SERVICE_DISABLED: the API to enable (e.g. bigquery.googleapis.com). */
    readonly disabledService: string | undefined,
  ) {
    super(message);
    this.name = 'GoogleApiError';
  }

  /** The API is not enabled in the project (or was enabled moments ago). */
  get serviceDisabled(): boolean {
    return (
      this.reason === 'SERVICE_DISABLED' || this.reason === 'accessNotConfigured' || !!this.disabledService
    );
  }
}

/** No answer in time. */
export class RequestTimeoutError extends Error {
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer from ${url} within ${Math.round(timeoutMs / 1000)} s`);
    this.name = 'RequestTimeoutError';
  }
}

interface GoogleErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    errors?: { reason?: string; message?: string }[];
    details?: { '@type'?: string; reason?: string; metadata?: Record<string, string> }[];
  };
}

/** Reads Google's JSON error body; a non-JSON body (a proxy's HTML page) keeps its first line. */
export function parseGoogleError(status: number, url: string, text: string): GoogleApiError {
  let body: GoogleErrorBody = {};
  try {
    body = JSON.parse(text) as GoogleErrorBody;
  } catch {
    // Not JSON: the status and the text's first line are all there is.
  }
  const e = body.error ?? {};
  const info = (e.details ?? []).find((d) => d['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo');
  const disabled = info?.reason === 'SERVICE_DISABLED' ? info.metadata?.service : undefined;
  const reason = info?.reason ?? e.errors?.[0]?.reason ?? e.status;
  const message = e.message ?? (text.split('\n')[0]?.slice(0, 200) || `HTTP ${status}`);
  return new GoogleApiError(message, status, url, reason, disabled);
}

export type FetchFn = typeof fetch;

export interface RestClient {
  /** Sends `body` as JSON (if given) and returns the parsed JSON answer (`{}` for an empty one). */
  request<T>(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<T>;
  /** GETs `url` and returns the answer's bytes as they are, with its headers (a media download). */
  download(url: string): Promise<{ bytes: Buffer; headers: Headers }>;
}

/**
 * Where the bearer token comes from: a fixed token (the ops commands take one from gcloud), or a
 * source asked before every request (a function instance outlives its first token; the auth
 * library caches and refreshes it). A source that yields no token sends none (an emulator).
 */
export type TokenSource = string | (() => Promise<string | null | undefined>);

export function restClient(options: { token: TokenSource; timeoutMs: number; fetch?: FetchFn }): RestClient {
  const doFetch = options.fetch ?? fetch;
  const tokenOf = options.token;
  /** One exchange: the answer's bytes and headers, or a GoogleApiError / RequestTimeoutError. */
  const exchange = async (method: string, url: string, body?: unknown) => {
    let response: Response;
    let bytes: Buffer;
    const token = typeof tokenOf === 'string' ? tokenOf : await tokenOf();
    try {
      // One signal for the whole exchange, body included: a server that stalls mid-answer times out too.
      const signal = AbortSignal.timeout(options.timeoutMs);
      response = await doFetch(url, {
        method,
        signal,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      bytes = Buffer.from(await response.arrayBuffer());
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'TimeoutError' || name === 'AbortError')
        throw new RequestTimeoutError(url, options.timeoutMs);
      throw new Error(`cannot reach ${url}: ${(e as Error).message}`, { cause: e });
    }
    if (!response.ok) throw parseGoogleError(response.status, url, bytes.toString('utf8'));
    return { bytes, headers: response.headers };
  };
  return {
    async request<T>(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<T> {
      const text = (await exchange(method, url, body)).bytes.toString('utf8');
      return (text === '' ? {} : JSON.parse(text)) as T;
    },
    download: (url) => exchange('GET', url),
  };
}

/** Rejects with `make()`'s error when `promise` takes longer than `ms` (for calls without a signal). */
export function withTimeout<T>(promise: Promise<T>, ms: number, make: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(make()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
