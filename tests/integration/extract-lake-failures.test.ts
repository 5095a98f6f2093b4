import type { CreateResult, RawObjectRef, RawStore } from '../../functions/src/core/ports.js';
import { rawObjectKey } from '../../functions/src/core/lake-layout.js';
import { runIdentity } from '../../functions/src/core/run-identity.js';
import { runExtract } from '../../functions/src/extract/run-extract.js';
import { statusCommand } from '../../twin/src/cli/status-command.js';
import { openHarness, type Harness } from '../support/twin-harness.js';

/**
 * Every failed extract reaches the run table (issue 8): a lake that refuses the write (a full disk,
 * a permission problem) and an existing raw object that is corrupt on the re-publish path are
 * recorded as failed runs with their error, and `status` counts them.
 */
const SLOT = new Date('2026-11-21T05:00:00Z');
const RUN_ID = 'coingecko_usd_20261121T050000Z';

/** An errno error as node:fs raises it. */
function errnoError(code: 'ENOSPC' | 'EACCES', key: string): NodeJS.ErrnoException {
  const text = code === 'ENOSPC' ? 'no space left on device' : 'permission denied';
  return Object.assign(new Error(`${code}: ${text}, open '/data/lake/${key}'`), { code, errno: -28 });
}

/** The twin's lake, refusing writes of keys that match `refuse` with a file system error. */
function refusingLake(lake: RawStore, code: 'ENOSPC' | 'EACCES', refuse: RegExp): RawStore {
  return {
    bucket: lake.bucket,
    head: (key: string) => lake.head(key),
    read: (ref: RawObjectRef) => lake.read(ref),
    async createOnly(key: string, body: Buffer, contentType: string): Promise<CreateResult> {
      if (refuse.test(key)) throw errnoError(code, key);
      return lake.createOnly(key, body, contentType);
    },
  };
}

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
  h.market.simulator!.setTime(SLOT);
});
afterEach(() => h.close());

const extractWith = (lake: RawStore) =>
  runExtract(
    SLOT,
    {
      vsCurrency: h.config.vsCurrency,
      coinLimit: h.config.coinLimit,
      perPage: h.config.perPage,
      cadenceMinutes: h.config.cadenceMinutes,
    },
    {
      market: h.market.source,
      lake,
      publisher: h.twin.bus,
      clock: { now: () => new Date(), sleep: async () => undefined },
      logger: h.logger,
    },
  );

/** `crypto-pipeline status --json` on the data folder (the twin is closed for it, then reopened). */
async function statusJson(): Promise<{ runs: { failed: number; loaded: number } }> {
  await h.twin.settle();
  await h.twin.close();
  const lines: string[] = [];
  try {
    await statusCommand(h.config.dataDir, { json: true, out: (l) => lines.push(l), note: () => undefined });
  } finally {
    await h.restart().catch(() => undefined);
  }
  return JSON.parse(lines.join('\n')) as { runs: { failed: number; loaded: number } };
}

describe('a lake that refuses the raw object', () => {
  test('ENOSPC: the run is recorded as failed (retryable), with the failure record in the lake', async () => {
    await expect(extractWith(refusingLake(h.twin.lake, 'ENOSPC', /^raw\//))).rejects.toMatchObject({
      code: 'lake_write_failed',
      retryable: true,
      message: expect.stringContaining('ENOSPC'),
    });
    await h.twin.settle();
    expect(await h.twin.warehouse.getRun(RUN_ID)).toMatchObject({
      status: 'failed',
      error_code: 'lake_write_failed',
      error_message: expect.stringContaining('no space left on device'),
      raw_object: expect.stringMatching(/^failures\//),
    });
    expect(await h.twin.lake.list('failures/')).toHaveLength(1);
    expect(await h.twin.lake.list('raw/')).toEqual([]);
    expect(await statusJson()).toMatchObject({ runs: { failed: 1, loaded: 0 } });

    // The disk has room again: the next attempt loads the run and replaces the failure.
    await h.twin.extract(SLOT);
    await h.twin.settle();
    expect(await h.twin.warehouse.getRun(RUN_ID)).toMatchObject({ status: 'loaded', error_code: null });
  });

  test.each(['ENOSPC', 'EACCES'] as const)(
    '%s on every write: the failure still reaches the run table through the event',
    async (code) => {
      await expect(extractWith(refusingLake(h.twin.lake, code, /./))).rejects.toMatchObject({
        code: 'lake_write_failed',
        // A permission problem does not go away by retrying; a full disk may.
        retryable: code === 'ENOSPC',
      });
      await h.twin.settle();
      expect(await h.twin.warehouse.getRun(RUN_ID)).toMatchObject({
        status: 'failed',
        error_code: 'lake_write_failed',
        error_message: expect.stringContaining(code),
        // No record object could be written: generation 0 says so.
        raw_generation: '0',
      });
      expect([...(await h.twin.lake.list('raw/')), ...(await h.twin.lake.list('failures/'))]).toEqual([]);
      expect(h.logger.lines).toContainEqual(
        expect.objectContaining({
          severity: 'WARNING',
          message: expect.stringContaining('could not keep the failure record'),
        }),
      );
      expect(await statusJson()).toMatchObject({ runs: { failed: 1 } });
    },
  );
});

describe('a corrupt raw object on the re-publish path', () => {
  test('is recorded as a failed run, never overwritten, and counted by status', async () => {
    const key = rawObjectKey(runIdentity(SLOT, 'usd', h.config.cadenceMinutes));
    await h.twin.lake.createOnly(key, Buffer.from('{"manifest": trunc'), 'application/json');
    await expect(h.twin.extract(SLOT)).rejects.toMatchObject({
      code: 'raw_object_malformed',
      retryable: false,
    });
    await h.twin.settle();
    expect(await h.twin.warehouse.getRun(RUN_ID)).toMatchObject({
      status: 'failed',
      error_code: 'raw_object_malformed',
      error_message: expect.stringContaining(key),
    });
    expect((await h.twin.lake.list('raw/')).length).toBe(1);
    expect(await statusJson()).toMatchObject({ runs: { failed: 1, loaded: 0 } });
  });
});
