import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunEvent } from '../../functions/src/core/event.js';
import { rawObjectKey } from '../../functions/src/core/lake-layout.js';
import { runIdentity } from '../../functions/src/core/run-identity.js';
import { handleLoadEvent } from '../../functions/src/load/cloudevent-handler.js';
import { pushToCloudEventData } from '../../twin/src/adapters/push-to-cloudevent.js';
import { encodeEvent } from '../../functions/src/core/pubsub-envelope.js';
import { systemClock } from '../../functions/src/core/ports.js';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { openHarness, type Harness } from '../support/twin-harness.js';

const SLOT = new Date('2026-11-21T05:00:00Z');
const FACTS = 'select count(*) from fact_market_snapshot';

describe('the twin end to end (simulator -> extract -> lake -> event -> load -> DuckDB)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
    h.market.simulator!.setTime(SLOT);
  });
  afterEach(() => h.close());

  it('loads a run, and a retried run of the same slot rewrites and loads nothing', async () => {
    const first = await h.twin.extract(new Date('2026-11-21T05:03:00Z'));
    await h.twin.settle();
    expect(first).toMatchObject({
      status: 'extracted',
      runId: 'coingecko_usd_20261121T050000Z',
      records: 120,
      pages: 3,
    });
    expect(await h.count(FACTS)).toBe(120);
    expect(await h.count('select count(*) from dim_asset')).toBe(120);
    const run = await h.twin.warehouse.getRun(first.runId);
    expect(run).toMatchObject({
      status: 'loaded',
      records_in: 120,
      records_loaded: 120,
      records_rejected: 0,
    });

    const rawPath = join(h.dir, 'lake', first.object);
    const before = await readFile(rawPath);
    const again = await h.twin.extract(new Date('2026-11-21T05:14:00Z'));
    await h.twin.settle();
    expect(again).toMatchObject({ status: 'already_extracted', generation: first.generation, records: 120 });
    expect(h.twin.loads.at(-1)).toMatchObject({ status: 'already_loaded', factRowsInserted: 0 });
    expect(await readFile(rawPath)).toEqual(before);
    expect(await h.count(FACTS)).toBe(120);
    expect((await h.twin.warehouse.getRun(first.runId))?.records_loaded).toBe(120);
  });

  it('loads the same event delivered twice, also concurrently, once', async () => {
    const e = await h.twin.extract(SLOT);
    await h.twin.settle();
    const event = eventFor(e);
    await Promise.all([h.twin.bus.publish(event), h.twin.bus.publish(event), h.twin.bus.publish(event)]);
    await h.twin.settle();
    expect(await h.count(FACTS)).toBe(120);
    expect(await h.count('select count(*) from dim_asset')).toBe(120);
    expect(await h.count('select count(*) from ops_run')).toBe(1);
  });

  it('loads concurrent deliveries of a run not yet loaded exactly once', async () => {
    const e = await h.twin.extract(SLOT);
    await h.twin.settle();
    // A second, empty warehouse over the same lake: both deliveries pass the "already loaded" check
    // before either writes, so the warehouse's own idempotency is what is tested.
    const warehouse = await DuckDbWarehouse.open(':memory:');
    try {
      const deps = { lake: h.twin.lake, warehouse, clock: systemClock, logger: h.logger };
      const data = pushToCloudEventData({
        message: { data: encodeEvent(eventFor(e)), attributes: {}, messageId: 'm', publishTime: e.slot },
        subscription: 's',
      });
      const results = await Promise.all([handleLoadEvent(data, deps), handleLoadEvent(data, deps)]);
      expect(results.map((r) => r?.status).sort()).toEqual(['already_loaded', 'loaded']);
      expect(results.map((r) => (r && 'factRowsInserted' in r ? r.factRowsInserted : -1)).sort()).toEqual([
        0, 120,
      ]);
      const [row] = await warehouse.query(FACTS);
      expect(Number(Object.values(row!)[0])).toBe(120);
    } finally {
      await warehouse.close();
    }
  });

  it('heals a crash between the lake write and the publish on retry', async () => {
    const publish = h.twin.bus.publish.bind(h.twin.bus);
    let crashes = 1;
    h.twin.bus.publish = async (event) => {
      if (crashes-- > 0) throw new Error('process died before publishing');
      return publish(event);
    };
    await expect(h.twin.extract(SLOT)).rejects.toThrow('process died');
    await h.twin.settle();
    expect(await h.twin.lake.head(rawObjectKey(runIdentity(SLOT, 'usd', 15)))).toBeDefined();
    expect(await h.count(FACTS)).toBe(0);

    const retry = await h.twin.extract(SLOT);
    await h.twin.settle();
    expect(retry.status).toBe('already_extracted');
    expect(await h.count(FACTS)).toBe(120);
    expect(h.market.simulator!.requestCount).toBe(3); // the retry fetched nothing
  });

  it.each(['dimensions', 'fact', 'run_record'] as const)(
    'heals a crash between load steps (after %s) on redelivery, with nothing lost or doubled',
    async (step) => {
      let crashes = 1;
      h.twin.warehouse.failpoint = (at) => {
        if (at === step && crashes-- > 0) throw new Error(`crash after ${at}`);
      };
      await h.twin.extract(SLOT);
      await h.twin.settle();
      expect(
        h.logger.lines.some((l) => l.severity === 'WARNING' && l.message.includes(`crash after ${step}`)),
      ).toBe(true);
      expect(await h.count(FACTS)).toBe(120);
      expect(await h.count('select count(*) from dim_asset')).toBe(120);
      expect(await h.count('select count(*) from dim_date')).toBe(1);
      expect((await h.twin.warehouse.getRun('coingecko_usd_20261121T050000Z'))?.records_loaded).toBe(120);
    },
  );

  it('redelivers an event left unacknowledged by a crashed process on the next start', async () => {
    h.twin.bus.subscribe(async () => {
      throw new Error('load crashed');
    });
    await h.twin.extract(SLOT);
    await h.twin.bus.close(); // the process dies with the event still pending
    const twin = await h.restart();
    await twin.settle();
    expect(await h.count(FACTS)).toBe(120);
  });

  it('acknowledges a poison message without retrying it, and logs why', async () => {
    const e = await h.twin.extract(SLOT);
    await h.twin.settle();
    await h.twin.bus.publish({ ...eventFor(e), schemaVersion: 99 } as unknown as RunEvent);
    await h.twin.settle();
    expect(await h.twin.bus.deadLetters()).toHaveLength(0);
    expect(h.logger.lines.find((l) => l.severity === 'ERROR')?.message).toMatch(
      /poison message acknowledged.*schemaVersion: Invalid input: expected 1/,
    );
    expect(await h.count('select count(*) from ops_run')).toBe(1);
  });

  it('dead-letters a message that keeps failing, and redrive loads it once fixed', async () => {
    let broken = true;
    h.twin.warehouse.failpoint = () => {
      if (broken) throw new Error('database is locked');
    };
    await h.twin.extract(SLOT);
    await h.twin.settle();
    const dead = await h.twin.bus.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ attempts: 5, lastError: expect.stringContaining('database is locked') });
    expect(await h.count(FACTS)).toBe(0);

    broken = false;
    expect(await h.twin.bus.redrive()).toBe(1);
    await h.twin.settle();
    expect(await h.twin.bus.deadLetters()).toHaveLength(0);
    expect(await h.count(FACTS)).toBe(120);
  });

  it('records a raw object that cannot be read as a failed run and acknowledges it', async () => {
    const e = await h.twin.extract(SLOT);
    await h.twin.settle();
    const key = e.object.replace('.json', '-corrupt.json');
    const { ref } = await h.twin.lake.createOnly(key, Buffer.from('{"manifest": nope'), 'application/json');
    const other = {
      ...eventFor(e),
      runId: 'coingecko_usd_20261121T051200Z',
      object: ref.key,
      generation: ref.generation,
    };
    await h.twin.bus.publish(other);
    await h.twin.settle();
    expect(await h.twin.bus.deadLetters()).toHaveLength(0);
    expect(await h.twin.warehouse.getRun(other.runId)).toMatchObject({
      status: 'failed',
      error_code: 'raw_object_malformed',
      error_message: expect.stringContaining('raw object is not JSON'),
    });
    expect(await h.count(FACTS)).toBe(120);
  });
});

describe('the twin when the market API misbehaves', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('retries rate limits and server errors and still loads', async () => {
    h = await openHarness();
    h.market.simulator!.setTime(SLOT);
    h.market.simulator!.setFaults({
      rateLimit: { everyNth: 2, retryAfterSeconds: 0 },
      serverErrorEveryNth: 5,
    });
    const e = await h.twin.extract(SLOT);
    await h.twin.settle();
    expect(e.records).toBe(120);
    expect(await h.count(FACTS)).toBe(120);
  });

  it('records a terminal API error as a failed run, keeps the body in the lake, and a later success replaces it', async () => {
    h = await openHarness();
    h.market.simulator!.setTime(SLOT);
    h.market.simulator!.setFaults({
      errorEnvelope: { status: 401, code: 10002, message: 'API key missing' },
    });
    await expect(h.twin.extract(SLOT)).rejects.toMatchObject({
      code: 'coingecko_api_error',
      retryable: false,
    });
    await h.twin.settle();
    expect(await h.twin.warehouse.getRun('coingecko_usd_20261121T050000Z')).toMatchObject({
      status: 'failed',
      error_code: 'coingecko_api_error',
    });
    const failures = await h.twin.lake.list('failures/');
    expect(failures).toHaveLength(1);
    const record = JSON.parse(await readFile(join(h.dir, 'lake', failures[0]!), 'utf8'));
    expect(record.body).toContain('API key missing');
    expect(await h.twin.lake.list('raw/')).toEqual([]);

    h.market.simulator!.setFaults(undefined);
    await h.twin.extract(SLOT);
    await h.twin.settle();
    expect(await h.twin.warehouse.getRun('coingecko_usd_20261121T050000Z')).toMatchObject({
      status: 'loaded',
      error_code: null,
      records_loaded: 120,
    });
  });

  it('stores and publishes nothing when a later page fails', async () => {
    h = await openHarness();
    h.market.simulator!.setTime(SLOT);
    h.market.simulator!.setFaults({
      errorEnvelope: { status: 403, code: 403, message: 'forbidden', everyNth: 2 },
    });
    await expect(h.twin.extract(SLOT)).rejects.toThrow(/page 2/);
    await h.twin.settle();
    expect(await h.twin.lake.list('raw/')).toEqual([]);
    expect(await h.count(FACTS)).toBe(0);
  });
});

function eventFor(e: {
  runId: string;
  slot: string;
  object: string;
  generation: string | null;
  records: number;
}): RunEvent {
  return {
    schemaVersion: 1,
    kind: 'raw_snapshot',
    runId: e.runId,
    source: 'coingecko',
    vsCurrency: 'usd',
    slot: e.slot,
    bucket: 'file://lake',
    object: e.object,
    generation: e.generation!,
    recordCount: e.records,
  };
}
