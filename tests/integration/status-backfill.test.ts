import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { systemClock } from '../../functions/src/core/ports.js';
import { planBackfill } from '../../functions/src/history/chunk-plan.js';
import { runBackfill } from '../../twin/src/backfill/run-backfill.js';
import { statusCommand } from '../../twin/src/cli/status-command.js';
import { createMarketSimulator } from '../../twin/src/market/index.js';
import { openHarness, type Harness } from '../support/twin-harness.js';

/** `status` reports the backfilled history from ops_backfill_chunk (text and `--json`). */
const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const COINS = createMarketSimulator().ids.slice(0, 2);

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(() => h.close());

async function status(json: boolean): Promise<string[]> {
  const out: string[] = [];
  expect(await statusCommand(h.dir, { json, out: (l) => out.push(l), note: () => undefined })).toBe(0);
  return out;
}

describe('status: backfill', () => {
  it('none before a backfill', async () => {
    await h.twin.close();
    expect(JSON.parse((await status(true)).join('\n')).backfill).toEqual({
      chunksLoaded: 0,
      chunksFailed: 0,
      points: 0,
      coins: 0,
      from: null,
      to: null,
    });
    expect(await status(false)).toContain('backfill: none (crypto-pipeline backfill)');
    await h.restart();
  });

  it('chunks loaded and failed, points, coins and the days they span', async () => {
    const { chunks } = planBackfill({
      plan: 'pro',
      coinIds: COINS,
      vsCurrencies: ['usd', 'eur'],
      from: new Date(today - 40 * DAY),
      to: new Date(today - 10 * DAY),
      granularity: 'daily',
      now: new Date(),
    });
    await runBackfill(chunks, {
      history: h.market.source,
      lake: h.twin.lake,
      publisher: h.twin.bus,
      warehouse: h.twin.warehouse,
      clock: systemClock,
      logger: h.logger,
    });
    await h.twin.settle();
    await h.twin.warehouse.recordFailedChunk({
      chunk_id: 'zzz_usd_daily_20260101T000000Z_20260102T000000Z',
      coin_id: 'zzz',
      vs_currency: 'usd',
      granularity: 'daily',
      range_from: new Date('2026-01-01T00:00:00Z'),
      range_to: new Date('2026-01-02T00:00:00Z'),
      status: 'failed',
      raw_object: 'failures/x.json',
      raw_generation: '1',
      points_in: null,
      points_loaded: null,
      points_rejected: null,
      error_code: 'http_503',
      error_message: 'outage',
      updated_at: new Date(),
    });
    await h.twin.close();
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    expect(JSON.parse((await status(true)).join('\n')).backfill).toEqual({
      chunksLoaded: 4,
      chunksFailed: 1,
      points: 4 * 30,
      coins: 2,
      from: day(today - 40 * DAY),
      to: day(today - 11 * DAY),
    });
    expect(await status(false)).toContain(
      `backfill: 4 chunk(s) loaded, 1 failed, 120 point(s), 2 coin(s) from ${day(today - 40 * DAY)} to ${day(today - 11 * DAY)}`,
    );
    await h.restart();
  }, 60_000);
});
