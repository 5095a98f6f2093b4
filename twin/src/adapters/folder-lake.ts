import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ExtractError } from '../../../functions/src/extract/errors.js';
import { LoadError } from '../../../functions/src/load/errors.js';
import type { CreateResult, RawObjectRef, RawStore } from '../../../functions/src/core/ports.js';

/**
 * The twin's lake: a folder with the same object keys as the GCS bucket. Create-only like
 * `ifGenerationMatch=0`: the body is written to a temporary file and hard-linked into place, which
 * fails if the key exists, so concurrent writers never see or leave a half-written object. The
 * generation is the file's modification time in microseconds, as GCS generations are.
 */
export class FolderLake implements RawStore {
  readonly bucket: string;

  constructor(readonly root: string) {
    this.root = resolve(root);
    this.bucket = `file://${this.root}`;
  }

  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error(`object key escapes the lake: ${key}`);
    return path;
  }

  private async generationOf(path: string): Promise<string | undefined> {
    try {
      return ((await stat(path, { bigint: true })).mtimeNs / 1000n).toString();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async head(key: string): Promise<RawObjectRef | undefined> {
    const generation = await this.generationOf(this.pathOf(key));
    return generation === undefined ? undefined : { bucket: this.bucket, key, generation };
  }

  async createOnly(key: string, body: Buffer, _contentType: string): Promise<CreateResult> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = join(dirname(path), `.tmp-${randomUUID()}`);
    await writeFile(temp, body);
    try {
      await link(temp, path);
      const generation = (await this.generationOf(path))!;
      return { created: true, ref: { bucket: this.bucket, key, generation } };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ExtractError(`cannot write ${key} to the lake: ${(e as Error).message}`, {
          code: 'lake_write_failed',
          retryable: true,
          cause: e,
        });
      }
      return { created: false, ref: (await this.head(key))! };
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async read(ref: RawObjectRef): Promise<Buffer> {
    const path = this.pathOf(ref.key);
    const generation = await this.generationOf(path);
    if (generation === undefined) {
      throw new LoadError(`lake object ${ref.key} does not exist`, {
        code: 'raw_object_missing',
        retryable: false,
      });
    }
    if (generation !== ref.generation) {
      throw new LoadError(`lake object ${ref.key} is generation ${generation}, not ${ref.generation}`, {
        code: 'raw_object_generation_mismatch',
        retryable: false,
      });
    }
    return readFile(path);
  }

  /** Keys below a prefix, in name order (used by replay and status). */
  async list(prefix: string): Promise<string[]> {
    const base = this.pathOf(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
    try {
      const entries = await readdir(base, { recursive: true, withFileTypes: true });
      return entries
        .filter((e) => e.isFile() && !e.name.startsWith('.tmp-'))
        .map((e) => relative(this.root, join(e.parentPath, e.name)).split(sep).join('/'))
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }
}
