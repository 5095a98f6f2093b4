import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EVENT_SCHEMA_VERSION, type PipelineEvent } from '../../functions/src/core/event.js';
import { DEFAULTS as INFRA_DEFAULTS } from '../../infra/config.js';
import { FolderLake } from '../../twin/src/adapters/folder-lake.js';
import { DEFAULT_DELIVERY, Twin } from '../../twin/src/twin.js';
import { memoryLogger, openHarness, tempDir, testConfig } from '../support/twin-harness.js';

/**
 * The twin's safety nets, each tested by what it prevents (issue 8, item 8: mutants that removed
 * them survived the whole suite).
 */
describe('the folder lake is create-only', () => {
  it('never overwrites an object: the first body stays, the second writer is told it exists', async () => {
    const lake = new FolderLake(tempDir('cmp-lake-'));
    const key = 'raw/x/run.json';
    const first = await lake.createOnly(key, Buffer.from('first'), 'application/json');
    const second = await lake.createOnly(key, Buffer.from('second'), 'application/json');
    expect(first.created).toBe(true);
    expect(second).toEqual({ created: false, ref: first.ref });
    expect(await readFile(join(lake.root, key), 'utf8')).toBe('first');
  });

  it('lets exactly one of many concurrent writers create the object, whole', async () => {
    const lake = new FolderLake(tempDir('cmp-lake-'));
    const bodies = Array.from({ length: 8 }, (_, i) => Buffer.from(`body-${i}-`.repeat(50_000)));
    const results = await Promise.all(
      bodies.map((b) => lake.createOnly('raw/y.json', b, 'application/json')),
    );
    const winners = results.filter((r) => r.created);
    expect(winners).toHaveLength(1);
    const stored = await readFile(join(lake.root, 'raw/y.json'));
    expect(bodies.some((b) => b.equals(stored))).toBe(true);
  });

  it('reads only the generation an event names', async () => {
    const lake = new FolderLake(tempDir('cmp-lake-'));
    const { ref } = await lake.createOnly('raw/z.json', Buffer.from('v1'), 'application/json');
    await expect(lake.read({ ...ref, generation: '12345' })).rejects.toMatchObject({
      code: 'raw_object_generation_mismatch',
    });
    // The same key written again (deleted and re-created) is another generation.
    await rm(join(lake.root, 'raw/z.json'));
    await new Promise((r) => setTimeout(r, 5));
    await lake.createOnly('raw/z.json', Buffer.from('v2'), 'application/json');
    await expect(lake.read(ref)).rejects.toMatchObject({ code: 'raw_object_generation_mismatch' });
  });
});

describe('the twin delivers like the deployed subscription', () => {
  it('dead-letters after as many attempts as the cloud dead-letter policy, by default', async () => {
    expect(DEFAULT_DELIVERY.maxDeliveryAttempts).toBe(INFRA_DEFAULTS.maxDeliveryAttempts);
    const dir = tempDir('cmp-delivery-');
    const config = testConfig(dir);
    // Only the backoff is shortened: the attempt count is the default under test.
    const twin = await Twin.open({
      config,
      logger: memoryLogger(),
      delivery: { minBackoffMs: 1, maxBackoffMs: 2 },
    });
    try {
      let calls = 0;
      twin.bus.subscribe(async () => {
        calls += 1;
        throw new Error('IO Error: disk full');
      });
      await twin.bus.publish({
        schemaVersion: EVENT_SCHEMA_VERSION,
        kind: 'raw_snapshot',
        runId: 'coingecko_usd_20261121T050000Z',
        source: 'coingecko',
        vsCurrency: 'usd',
        slot: '2026-11-21T05:00:00.000Z',
        bucket: 'file:///lake',
        object: 'raw/x.json',
        generation: '1',
        recordCount: 1,
      });
      await twin.settle();
      const [dead] = await twin.bus.deadLetters();
      expect(dead?.attempts).toBe(INFRA_DEFAULTS.maxDeliveryAttempts);
      expect(calls).toBe(INFRA_DEFAULTS.maxDeliveryAttempts);
    } finally {
      await twin.close();
    }
  });
});

describe("load's already-loaded fast path", () => {
  it('answers a redelivery of a loaded run from the run table, without reading the lake', async () => {
    const h = await openHarness();
    try {
      const published: PipelineEvent[] = [];
      const publish = h.twin.bus.publish.bind(h.twin.bus);
      h.twin.bus.publish = (event) => {
        published.push(event);
        return publish(event);
      };
      h.market.simulator!.setTime(new Date('2026-11-21T05:00:00Z'));
      const extract = await h.twin.extract(new Date('2026-11-21T05:00:00Z'));
      await h.twin.settle();
      expect(h.twin.loads.at(-1)).toMatchObject({ status: 'loaded' });
      // The raw object is gone: only the fast path can still answer the redelivery.
      await rm(join(h.twin.lake.root, extract.object));
      await publish(published[0]!);
      await h.twin.settle();
      expect(h.twin.loads.at(-1)).toMatchObject({ status: 'already_loaded', runId: extract.runId });
      expect(await h.twin.bus.deadLetters()).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
