import { createHash } from 'node:crypto';
import type { RawObjectRef, RawReader } from '../../core/ports.js';
import { LoadError } from '../../load/errors.js';
import { generationOf, objectNotFound, objectVersion, readError } from './gcs-raw-store.js';
import { googleErrorFacts } from './google-errors.js';
import type { RestClient } from './google-rest.js';
import type { Budget } from './retry-budget.js';

/**
 * The load function's read of the lake: one JSON API media download of the generation the event
 * names, `GET {base}/b/{bucket}/o/{key}?alt=media&generation={g}`, over REST with the BigQuery
 * client's credentials. Not @google-cloud/storage: `load` reads one object a run, and importing
 * that client (and the second copy of google-auth-library it brings) was about 100 ms of every
 * cold start (issue 12). The answers mean what they mean to GcsRawStore.read, with the same error
 * codes: a 404 is terminal (gone, or another generation is live), throttling and server errors are
 * retried inside the invocation's budget, and the bytes are checked against the MD5 GCS sends.
 */
export class GcsRestReader implements RawReader {
  constructor(
    private readonly rest: RestClient,
    /** `https://storage.googleapis.com/storage/v1`, or an emulator's `{host}/storage/v1`. */
    private readonly baseUrl: string,
    /** A fresh budget per read: its retries stay inside the invocation's time. */
    private readonly budget: () => Budget,
  ) {}

  async read(ref: RawObjectRef): Promise<Buffer> {
    const where = objectVersion(ref);
    const url = `${this.objectUrl(ref)}?alt=media&generation=${encodeURIComponent(ref.generation)}`;
    const answer = await this.budget().retry(
      async () => {
        try {
          const { bytes, headers } = await this.rest.download(url);
          checkMd5(bytes, headers.get('x-goog-hash'), where);
          return bytes;
        } catch (error) {
          // Not retried: the generation is not there, and will not be.
          if (googleErrorFacts(error).status === 404) return { missing: error };
          throw error;
        }
      },
      (error) =>
        error instanceof LoadError
          ? error
          : readError(`cannot read ${where}`, googleErrorFacts(error), error),
    );
    if (Buffer.isBuffer(answer)) return answer;
    throw objectNotFound(ref, await this.liveGeneration(ref), answer.missing);
  }

  private objectUrl(ref: RawObjectRef): string {
    return `${this.baseUrl}/b/${encodeURIComponent(ref.bucket)}/o/${encodeURIComponent(ref.key)}`;
  }

  /** Best effort: only refines the message of an error that is terminal either way. */
  private async liveGeneration(ref: RawObjectRef): Promise<string | undefined> {
    try {
      return generationOf(await this.rest.request<{ generation?: string }>('GET', this.objectUrl(ref)));
    } catch {
      return undefined;
    }
  }
}

/**
 * `x-goog-hash: crc32c=…,md5=…` (base64). A single-request upload always has an MD5; a composed
 * object has none, and is read unchecked. A mismatch is a transfer gone wrong: retried.
 */
function checkMd5(bytes: Buffer, header: string | null, where: string): void {
  const expected = /(?:^|,)\s*md5=([^,]+)/.exec(header ?? '')?.[1]?.trim();
  if (expected === undefined) return;
  const actual = createHash('md5').update(bytes).digest('base64');
  if (actual !== expected) {
    throw new LoadError(`${where} arrived damaged: MD5 ${actual}, GCS says ${expected}`, {
      code: 'gcs_read_corrupt',
      retryable: true,
      details: { expected, actual, bytes: bytes.length },
    });
  }
}
