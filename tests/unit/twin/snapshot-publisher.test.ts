import type { DuckDbWarehouse } from '../../../twin/src/adapters/duckdb-warehouse.js';
import { SnapshotPublisher } from '../../../twin/src/reading/snapshot-publisher.js';
import { memoryLogger } from '../../support/twin-harness.js';

/** A warehouse whose copies take `ms` each, counted. */
function slowCopies(ms: number, fail = false) {
  const copies: number[] = [];
  const warehouse = {
    publishSnapshot: async () => {
      await new Promise((r) => setTimeout(r, ms));
      copies.push(Date.now());
      if (fail) throw new Error('disk full');
    },
  } as unknown as DuckDbWarehouse;
  return { warehouse, copies };
}

describe('snapshot publisher', () => {
  it('copies at once after a quiet spell, then at most once per interval, and on flush', async () => {
    const { warehouse, copies } = slowCopies(1);
    const publisher = new SnapshotPublisher(warehouse, 'x', memoryLogger(), 200);
    publisher.changed();
    for (let i = 0; i < 20; i += 1) {
      publisher.changed();
      await new Promise((r) => setTimeout(r, 10));
    }
    // 20 changes in ~200 ms: the first copy at once, one trailing copy after the interval.
    expect(copies.length).toBeLessThanOrEqual(2);
    publisher.changed();
    await publisher.flush();
    expect(copies.length).toBeLessThanOrEqual(3);
    const settled = copies.length;
    await publisher.flush();
    expect(copies).toHaveLength(settled);
  });

  it('spaces copies ten times as long as one takes', async () => {
    const { warehouse, copies } = slowCopies(60);
    const publisher = new SnapshotPublisher(warehouse, 'x', memoryLogger(), 10);
    publisher.changed();
    await publisher.flush();
    const first = copies[0]!;
    publisher.changed(); // within 600 ms of the first copy: waits
    await new Promise((r) => setTimeout(r, 200));
    expect(copies).toHaveLength(1);
    await publisher.flush();
    expect(copies).toHaveLength(2);
    expect(first).toBeGreaterThan(0);
  });

  it('reports a failed copy as a warning and keeps going', async () => {
    const { warehouse } = slowCopies(1, true);
    const logger = memoryLogger();
    const publisher = new SnapshotPublisher(warehouse, 'x', logger, 10);
    publisher.changed();
    await publisher.flush();
    expect(logger.lines).toEqual([
      { severity: 'WARNING', message: 'could not publish a readable copy of the warehouse: disk full' },
    ]);
  });
});
