import type { PipelineEvent, RunEvent } from './event.js';

/**
 * The small interfaces the pipeline depends on (ARCHITECTURE.md §7.2). GCP adapters live in
 * `functions/src/adapters/gcp`, local-twin adapters in `twin/src/adapters`; clients are passed in,
 * so tests use fakes or real embedded engines without module patching.
 */

/** Where a lake object lives; `generation` pins the exact bytes (GCS object generation). */
export interface RawObjectRef {
  bucket: string;
  key: string;
  generation: string;
}

export interface CreateResult {
  /** False when the key already existed: nothing was written and `ref` is the existing object. */
  created: boolean;
  ref: RawObjectRef;
}

/** What the load stage needs of the lake: reading the object an event names. */
export interface RawReader {
  /** Reads the exact generation; a missing object or another generation is a terminal LoadError. */
  read(ref: RawObjectRef): Promise<Buffer>;
}

export interface RawStore extends RawReader {
  readonly bucket: string;
  /** Create-only write (GCS `ifGenerationMatch=0`); an existing object is never overwritten. */
  createOnly(key: string, body: Buffer, contentType: string): Promise<CreateResult>;
  /** The object's current generation, or undefined when there is none (a cheap metadata lookup). */
  head(key: string): Promise<RawObjectRef | undefined>;
}

export interface EventPublisher {
  /** Publishes the pointer event; resolves to the message id. */
  publish(event: PipelineEvent): Promise<string>;
}

export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or as soon as `signal` aborts (early, without rejecting). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** setTimeout fires at once for delays above 2^31-1 ms (~24.8 days); longer sleeps go in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      let timer: NodeJS.Timeout;
      const deadline = Date.now() + ms;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const arm = () => {
        const left = deadline - Date.now();
        if (left <= 0) return done();
        timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      };
      // The timer is cleared on abort: a pending one would keep the process alive until it fires.
      signal?.addEventListener('abort', done, { once: true });
      arm();
    }),
};

/** One HTTP response of the market API, kept verbatim. */
export interface MarketPage {
  page: number;
  /** Request URL without credentials. */
  url: string;
  status: number;
  fetchedAt: string;
  durationMs: number;
  attempts: number;
  /** The response body, byte for byte. */
  body: Buffer;
  records: number;
}

export interface MarketRequest {
  vsCurrency: string;
  coinLimit: number;
  perPage: number;
}

export interface MarketSource {
  /** A short description for manifests and logs (host and plan, never the key). */
  readonly description: string;
  /** Fetches every page or throws an ExtractError: a run never sees a partial result. */
  fetchMarkets(request: MarketRequest): Promise<MarketPage[]>;
  ping(): Promise<void>;
}

export type { PipelineEvent, RunEvent };
