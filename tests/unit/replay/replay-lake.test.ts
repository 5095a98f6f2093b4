import { summaryLines } from '../../../twin/src/cli/replay-command.js';
import { describe, expect, it } from '@jest/globals';
import type { RunEvent } from '../../../functions/src/core/event.js';
import { rawObjectKey } from '../../../functions/src/core/lake-layout.js';
import type { RawObjectRef } from '../../../functions/src/core/ports.js';
import { encodeRawObject } from '../../../functions/src/core/raw-object.js';
import { runIdentity } from '../../../functions/src/core/run-identity.js';
import {
  replayLake,
  type DeliveryOutcome,
  type ReplayLakeReader,
  type ReplayStep,
} from '../../../twin/src/replay/replay-lake.js';
import { replayProgressPrinter } from '../../../twin/src/replay/replay-progress.js';
import { twinDelivery } from '../../../twin/src/replay/twin-delivery.js';
import type { LoadSummary } from '../../../functions/src/load/run-load.js';

/** A lake of `slots` raw objects held in memory (generation "7" each). */
function memoryLake(slots: string[]): ReplayLakeReader {
  const objects = new Map<string, Buffer>();
  for (const time of slots) {
    const run = runIdentity(new Date(time), 'usd', 15);
    const manifest = {
      schemaVersion: 1 as const,
      runId: run.runId,
      source: 'coingecko',
      endpoint: '/api/v3/coins/markets',
      vsCurrency: 'usd',
      slot: run.slot.toISOString(),
      market: 'test',
      request: { coinLimit: 1, perPage: 1 },
      pages: [],
      recordCount: 1,
      extractedAt: run.slot.toISOString(),
    };
    objects.set(rawObjectKey(run), encodeRawObject(manifest, [Buffer.from('[]')]));
  }
  return {
    bucket: 'mem',
    list: async (prefix) => [...objects.keys()].filter((k) => k.startsWith(prefix)),
    head: async (key) => (objects.has(key) ? { bucket: 'mem', key, generation: '7' } : undefined),
    read: async (ref: RawObjectRef) => objects.get(ref.key)!,
  };
}

const SLOTS = ['2026-11-21T05:00:00Z', '2026-11-21T05:15:00Z', '2026-11-21T05:30:00Z'];

describe('replayLake', () => {
  it('delivers each object once, in slot order, and counts what the load made of it', async () => {
    const delivered: RunEvent[] = [];
    const outcomes: DeliveryOutcome[] = [
      { status: 'loaded', rows: 5 },
      { status: 'already_loaded' },
      { status: 'failed', reason: 'warehouse on fire' },
    ];
    const summary = await replayLake(
      memoryLake([...SLOTS].reverse()),
      { deliver: async (e) => (delivered.push(e as RunEvent), outcomes[delivered.length - 1]!) },
      { range: {} },
    );
    expect(delivered.map((e) => e.slot)).toEqual(SLOTS.map((s) => new Date(s).toISOString()));
    expect(delivered.every((e) => e.generation === '7' && e.bucket === 'mem')).toBe(true);
    expect(summary).toEqual({
      range: {},
      found: 3,
      delivered: 3,
      loaded: 1,
      alreadyLoaded: 1,
      failuresRecorded: 0,
      rowsLoaded: 5,
      history: { found: 0, loaded: 0, alreadyLoaded: 0, failuresRecorded: 0, pointsLoaded: 0 },
      failed: [
        {
          object:
            'raw/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/coingecko_usd_20261121T053000Z.json',
          runId: 'coingecko_usd_20261121T053000Z',
          reason: 'warehouse on fire',
        },
      ],
      ignored: [],
      interrupted: false,
    });
  });

  it('Ctrl-C stops after the object in flight and says so', async () => {
    const controller = new AbortController();
    let deliveries = 0;
    const summary = await replayLake(
      memoryLake(SLOTS),
      {
        deliver: async () => {
          deliveries += 1;
          controller.abort();
          return { status: 'loaded', rows: 1 };
        },
      },
      { range: {}, signal: controller.signal },
    );
    expect(deliveries).toBe(1);
    expect(summary).toMatchObject({ found: 3, delivered: 1, loaded: 1, interrupted: true });
  });

  it('an object gone between listing and reading is a failure, not a crash', async () => {
    const lake = memoryLake(SLOTS);
    const summary = await replayLake(
      { ...lake, head: async () => undefined },
      { deliver: async () => ({ status: 'loaded', rows: 1 }) },
      { range: {} },
    );
    expect(summary.delivered).toBe(0);
    expect(summary.failed.map((f) => f.reason)).toEqual(
      Array(3).fill('the object disappeared from the lake'),
    );
  });
});

describe('progress', () => {
  const step = (index: number, outcome: DeliveryOutcome): ReplayStep => ({
    index,
    total: 2,
    object: 'o',
    subject: `run${index}`,
    outcome,
  });

  it('plain lines when not a terminal', () => {
    const lines: string[] = [];
    const p = replayProgressPrinter({ out: (l) => lines.push(l) });
    p.step(step(1, { status: 'loaded', rows: 250 }));
    p.step(step(2, { status: 'failed', reason: 'boom' }));
    p.done();
    expect(lines).toEqual(['[1/2] run1: loaded 250 rows', '[2/2] run2: FAILED: boom']);
  });

  it('a bar redrawn in place on a terminal; failures keep a line of their own', () => {
    let written = '';
    const stream = Object.assign(
      {
        write: (chunk: string) => {
          written += chunk;
          return true;
        },
      } as unknown as NodeJS.WritableStream,
      { isTTY: true },
    );
    const p = replayProgressPrinter({ out: () => undefined, stream });
    p.step(step(1, { status: 'loaded', rows: 250 }));
    p.step(step(2, { status: 'failed', reason: 'boom' }));
    p.done();
    expect(written).toContain('\r\x1b[2K[############............] 1/2 run1');
    expect(written).toContain('\r\x1b[2Krun2: FAILED: boom\n');
    expect(written).toContain('[########################] 2/2 run2');
    expect(written.endsWith('\n')).toBe(true);
  });
});

describe('twinDelivery', () => {
  const event = {
    schemaVersion: 1,
    kind: 'raw_snapshot',
    runId: 'coingecko_usd_20261121T050000Z',
    source: 'coingecko',
    vsCurrency: 'usd',
    slot: '2026-11-21T05:00:00.000Z',
    bucket: 'b',
    object: 'o',
    generation: '1',
    recordCount: 1,
  } as const;

  /** A twin whose bus acknowledges with `load`, or dead-letters when there is none. */
  function fakeTwin(load: Partial<LoadSummary> | undefined, earlier: LoadSummary[] = []) {
    const loads: LoadSummary[] = [...earlier];
    const twin = {
      loads,
      bus: {
        publish: async () => {
          if (load) loads.push({ ...baseLoad, ...load });
          return 'msg-2';
        },
        deadLetters: async () => [
          { envelope: { message: { messageId: 'msg-1' } }, lastError: 'an older one' },
          { envelope: { message: { messageId: 'msg-2' } }, lastError: 'warehouse is locked' },
        ],
      },
      settle: async () => undefined,
    };
    return twin as unknown as Parameters<typeof twinDelivery>[0];
  }
  const baseLoad: LoadSummary = {
    status: 'loaded',
    runId: event.runId,
    recordsIn: 1,
    factRowsInserted: 1,
    rejected: 0,
    duplicates: 0,
    assetVersionsInserted: 0,
    durationMs: 1,
  };

  it("reports this delivery's load, not an earlier one of the same run", async () => {
    const outcome = await twinDelivery(fakeTwin({ status: 'already_loaded' }, [baseLoad])).deliver(event);
    expect(outcome).toEqual({ status: 'already_loaded' });
  });

  it('a failed attempt recorded again is not a failure of the replay', async () => {
    expect(await twinDelivery(fakeTwin({ status: 'failure_recorded' })).deliver(event)).toEqual({
      status: 'failure_recorded',
    });
  });

  it('a rejected load is a failure with its reason', async () => {
    const outcome = await twinDelivery(
      fakeTwin({ status: 'rejected', error: { code: 'raw_object_malformed', message: 'not JSON' } }),
    ).deliver(event);
    expect(outcome).toEqual({ status: 'failed', reason: 'not JSON' });
  });

  it("a dead-lettered event is a failure with the dead letter's last error", async () => {
    expect(await twinDelivery(fakeTwin(undefined)).deliver(event)).toEqual({
      status: 'failed',
      reason: 'dead-lettered: warehouse is locked',
    });
  });
});

describe('the closing lines', () => {
  it('count the backfill chunks when there are some', () => {
    const lines = summaryLines(
      {
        range: {},
        found: 5,
        delivered: 5,
        loaded: 3,
        alreadyLoaded: 0,
        failuresRecorded: 2,
        rowsLoaded: 250,
        history: { found: 3, loaded: 2, alreadyLoaded: 0, failuresRecorded: 1, pointsLoaded: 60 },
        failed: [],
        ignored: [],
        interrupted: false,
      },
      1,
    );
    expect(lines).toContain(
      'of which 3 backfill chunk object(s): 2 loaded (60 history points), 0 already loaded, ' +
        '1 failed fetch(es) recorded in ops_backfill_chunk again',
    );
  });
});
