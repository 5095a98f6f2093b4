import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A scriptable HTTP server on 127.0.0.1 standing in for the Google REST APIs (ARCHITECTURE.md §6:
 * no emulator exists here). The real client libraries are pointed at it through `apiEndpoint`, so
 * contract tests assert the exact requests they make and feed them exact answers (409, 412, 429,
 * 5xx...). Nothing leaves the machine.
 */

export interface RecordedRequest {
  method: string;
  /** Path as sent (still percent-encoded, e.g. `/storage/v1/b/lake/o/raw%2Fx.json`). */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and Buffers as they are. */
  body?: unknown;
}

export type Responder = FakeResponse | ((req: RecordedRequest) => FakeResponse | Promise<FakeResponse>);

interface Route {
  method: string;
  path: string | RegExp;
  responder: Responder;
  /** Answers left; undefined = unlimited. */
  times?: number;
}

export class FakeGcpServer {
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** Requests no route answered (each got a 501, which clients treat as a server error). */
  readonly unmatched: RecordedRequest[] = [];
  private routes: Route[] = [];

  private constructor(private readonly server: Server) {}

  /** Listens on an ephemeral port of 127.0.0.1. */
  static async start(): Promise<FakeGcpServer> {
    // The handler needs the instance, and the instance needs the server: a forward reference.
    const holder: { fake?: FakeGcpServer } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const recorded: RecordedRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body: Buffer.concat(chunks),
        };
        void holder.fake!.answer(recorded).then(
          (r) => send(res, r),
          (e: unknown) => send(res, { status: 500, body: { error: { code: 500, message: String(e) } } }),
        );
      });
    });
    const fake = new FakeGcpServer(server);
    holder.fake = fake;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** `http://127.0.0.1:<port>`, for the clients' `apiEndpoint`. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /**
   * Adds a route; routes are tried in the order they were added, skipping used-up ones. `path`
   * is matched exactly (string) or by pattern.
   */
  on(method: string, path: string | RegExp, responder: Responder, times?: number): this {
    this.routes.push({ method, path, responder, times });
    return this;
  }

  /** A route that answers once, then steps aside for the next matching one. */
  once(method: string, path: string | RegExp, responder: Responder): this {
    return this.on(method, path, responder, 1);
  }

  /** A one-time route tried before every other: to interject one odd answer into a scripted flow. */
  first(method: string, path: string | RegExp, responder: Responder): this {
    this.routes.unshift({ method, path, responder, times: 1 });
    return this;
  }

  /** Requests matching method and path. */
  find(method: string, path: string | RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && matches(path, r.path));
  }

  /** Forgets routes and recorded requests (between tests). */
  reset(): void {
    this.routes = [];
    this.requests.length = 0;
    this.unmatched.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())));
  }

  private async answer(req: RecordedRequest): Promise<FakeResponse> {
    this.requests.push(req);
    const route = this.routes.find(
      (r) => r.method === req.method && matches(r.path, req.path) && (r.times === undefined || r.times > 0),
    );
    if (route === undefined) {
      this.unmatched.push(req);
      return {
        status: 501,
        body: { error: { code: 501, message: `no route for ${req.method} ${req.path}` } },
      };
    }
    if (route.times !== undefined) route.times--;
    return typeof route.responder === 'function' ? route.responder(req) : route.responder;
  }
}

function matches(pattern: string | RegExp, path: string): boolean {
  return typeof pattern === 'string' ? pattern === path : pattern.test(path);
}

function send(res: ServerResponse, r: FakeResponse): void {
  const isBytes = typeof r.body === 'string' || Buffer.isBuffer(r.body);
  const payload = r.body === undefined ? '' : isBytes ? (r.body as string | Buffer) : JSON.stringify(r.body);
  const headers: Record<string, string> = {
    ...(r.body !== undefined && !isBytes ? { 'content-type': 'application/json; charset=UTF-8' } : {}),
    ...r.headers,
  };
  res.writeHead(r.status ?? 200, headers);
  res.end(payload);
}

/** Google's JSON error body (`{error: {code, message, errors[], status}}`). */
export function googleError(status: number, reason: string, message: string): FakeResponse {
  return {
    status,
    body: { error: { code: status, message, errors: [{ domain: 'global', reason, message }] } },
  };
}

/**
 * The GCE metadata server, as far as google-auth-library asks it (Cloud Run credentials): point
 * the code under test at it with GCE_METADATA_HOST, and it hands out `token` for `project`.
 */
export function installMetadataServer(server: FakeGcpServer, token: string, project: string): void {
  const flavor = { 'metadata-flavor': 'Google' };
  server.on('GET', '/computeMetadata/v1/instance/service-accounts/default/token', {
    headers: flavor,
    body: { access_token: token, expires_in: 3600, token_type: 'Bearer' },
  });
  server.on('GET', '/computeMetadata/v1/universe/universe-domain', {
    headers: flavor,
    body: 'googleapis.com',
  });
  server.on('GET', '/computeMetadata/v1/project/project-id', { headers: flavor, body: project });
  server.on('GET', /^\/computeMetadata\/v1\/?/, { headers: flavor, body: '' });
}

export interface MultipartPart {
  headers: Record<string, string>;
  body: Buffer;
}

/** Splits a `multipart/related` request body into its parts (media uploads). */
export function parseMultipart(req: RecordedRequest): MultipartPart[] {
  const type = String(req.headers['content-type'] ?? '');
  const boundary = /boundary=("?)([^";]+)\1/.exec(type)?.[2];
  if (boundary === undefined) throw new Error(`not multipart: ${type}`);
  const text = req.body.toString('latin1');
  return text
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((chunk) => {
      const trimmed = chunk.replace(/^\r\n/, '').replace(/\r\n$/, '');
      const split = trimmed.indexOf('\r\n\r\n');
      const head = trimmed.slice(0, split);
      const headers = Object.fromEntries(
        head.split('\r\n').map((line) => {
          const i = line.indexOf(':');
          return [line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()];
        }),
      );
      return { headers, body: Buffer.from(trimmed.slice(split + 4), 'latin1') };
    });
}
