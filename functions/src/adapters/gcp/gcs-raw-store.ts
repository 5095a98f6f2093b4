import type { Storage } from '@google-cloud/storage';
import type { CreateResult, RawObjectRef, RawStore } from '../../core/ports.js';
import { ExtractError } from '../../extract/errors.js';
import { LoadError } from '../../load/errors.js';
import { googleErrorFacts, isTransientStatus, type GoogleErrorFacts } from './google-errors.js';

/**
 * The lake on Cloud Storage. Writes are create-only (`ifGenerationMatch=0`): a retried or
 * duplicated run can never overwrite the bytes an earlier attempt stored, and 412 simply means
 * "already written". Reads pin the exact generation named by the event.
 *
 * Writes and lookups belong to the extract stage (they fail as ExtractError); reads belong to the
 * load stage (LoadError). The Storage client is passed in: its own retries (conditional on the
 * generation precondition, so safe) should be bounded by the caller, via `retryOptions`, to stay
 * inside the function's time budget.
 */
export class GcsRawStore implements RawStore {
  constructor(
    private readonly storage: Storage,
    readonly bucket: string,
  ) {}

  /**
   * One multipart request (objects are small, so resumable sessions would only add a round trip):
   * `POST /upload/storage/v1/b/{bucket}/o?uploadType=multipart&name={key}&ifGenerationMatch=0`.
   * On 412 the existing object's generation is read (`GET /storage/v1/b/{bucket}/o/{key}`).
   */
  async createOnly(key: string, body: Buffer, contentType: string): Promise<CreateResult> {
    const file = this.storage.bucket(this.bucket).file(key);
    try {
      await file.save(body, {
        resumable: false,
        contentType,
        preconditionOpts: { ifGenerationMatch: 0 },
      });
    } catch (error) {
      const facts = googleErrorFacts(error);
      if (facts.status !== 412) throw writeError(`cannot write gs://${this.bucket}/${key}`, facts, error);
      const existing = await this.head(key);
      if (existing === undefined) {
        // Deleted between the 412 and the lookup (a lifecycle rule or an operator): writing again
        // on the next attempt is the right outcome, so this one is worth retrying.
        throw new ExtractError(`gs://${this.bucket}/${key} existed, then vanished before it could be read`, {
          code: 'raw_object_vanished',
          retryable: true,
          cause: error,
        });
      }
      return { created: false, ref: existing };
    }
    return { created: true, ref: { bucket: this.bucket, key, generation: generationOf(file.metadata) } };
  }

  /** `GET /storage/v1/b/{bucket}/o/{key}`: the live generation, or undefined on 404. */
  async head(key: string): Promise<RawObjectRef | undefined> {
    try {
      const [metadata] = await this.storage.bucket(this.bucket).file(key).getMetadata();
      return { bucket: this.bucket, key, generation: generationOf(metadata) };
    } catch (error) {
      const facts = googleErrorFacts(error);
      if (facts.status === 404) return undefined;
      throw writeError(`cannot look up gs://${this.bucket}/${key}`, facts, error);
    }
  }

  /**
   * `GET /storage/v1/b/{bucket}/o/{key}?alt=media&generation={generation}` from the bucket the
   * event names. A 404 is terminal: the object is gone, or only another generation exists (told
   * apart with one metadata lookup, so the run record says which).
   */
  async read(ref: RawObjectRef): Promise<Buffer> {
    const where = objectVersion(ref);
    try {
      const [bytes] = await this.storage
        .bucket(ref.bucket)
        .file(ref.key, { generation: ref.generation })
        .download();
      return bytes;
    } catch (error) {
      const facts = googleErrorFacts(error);
      if (facts.status !== 404) throw readError(`cannot read ${where}`, facts, error);
      throw objectNotFound(ref, await this.liveGeneration(ref), error);
    }
  }

  /** Best effort: only refines the message of an error that is terminal either way. */
  private async liveGeneration(ref: RawObjectRef): Promise<string | undefined> {
    try {
      const [metadata] = await this.storage.bucket(ref.bucket).file(ref.key).getMetadata();
      return generationOf(metadata);
    } catch {
      return undefined;
    }
  }
}

/** `gs://bucket/key#generation`, as errors name an object version. */
export const objectVersion = (ref: RawObjectRef) => `gs://${ref.bucket}/${ref.key}#${ref.generation}`;

/**
 * The generation an event names is not there (a 404): terminal either way, but the run record says
 * whether the object is gone or only another generation exists (`live`, from a metadata lookup).
 */
export function objectNotFound(ref: RawObjectRef, live: string | undefined, cause: unknown): LoadError {
  const where = objectVersion(ref);
  if (live !== undefined) {
    return new LoadError(`${where} does not exist; the object's generation is now ${live}`, {
      code: 'raw_object_generation_mismatch',
      retryable: false,
      cause,
      details: { bucket: ref.bucket, key: ref.key, generation: ref.generation, liveGeneration: live },
    });
  }
  return new LoadError(`${where} does not exist`, {
    code: 'raw_object_missing',
    retryable: false,
    cause,
    details: { bucket: ref.bucket, key: ref.key, generation: ref.generation },
  });
}

/** GCS sends int64 generations as decimal strings; kept as strings so they stay exact. */
export function generationOf(metadata: { generation?: string | number }): string {
  const generation = metadata.generation;
  if (generation === undefined || !/^\d+$/.test(String(generation))) {
    throw new ExtractError(`Cloud Storage answered without a valid generation: ${String(generation)}`, {
      code: 'gcs_bad_response',
      retryable: true,
    });
  }
  return String(generation);
}

/** Throttling, server errors and lost connections may pass; anything else the caller must fix. */
function transient(facts: GoogleErrorFacts): boolean {
  return facts.status === undefined ? true : isTransientStatus(facts.status);
}

function codeFor(facts: GoogleErrorFacts, prefix: string): string {
  if (facts.status === undefined) return `${prefix}_unreachable`;
  if (facts.status === 429) return `${prefix}_rate_limited`;
  if (facts.status >= 500) return `${prefix}_unavailable`;
  if (facts.status === 401 || facts.status === 403) return `${prefix}_access_denied`;
  if (facts.status === 404) return `${prefix}_bucket_not_found`;
  return `${prefix}_rejected`;
}

function writeError(what: string, facts: GoogleErrorFacts, cause: unknown): ExtractError {
  return new ExtractError(`${what}: ${facts.message}`, {
    code: codeFor(facts, 'gcs_write'),
    retryable: transient(facts),
    cause,
    details: { status: facts.status, networkCode: facts.networkCode, reasons: facts.reasons },
  });
}

export function readError(what: string, facts: GoogleErrorFacts, cause: unknown): LoadError {
  return new LoadError(`${what}: ${facts.message}`, {
    code: codeFor(facts, 'gcs_read'),
    retryable: transient(facts),
    cause,
    details: { status: facts.status, networkCode: facts.networkCode, reasons: facts.reasons },
  });
}
