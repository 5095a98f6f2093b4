import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { main } from '../../twin/src/cli/main.js';
import { tempDir } from '../support/twin-harness.js';

/**
 * Acceptance of "several quote currencies" (issue 11) in the twin: with two currencies configured,
 * one scheduled slot (start's first tick) loads both, as two runs with rows for each currency.
 */
const ENV = { VS_CURRENCIES: 'usd,eur', COIN_LIMIT: '60', PER_PAGE: '50' };

let dir: string;
beforeAll(() => {
  dir = tempDir('cmp-currencies-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[], stopWhen?: (lines: string[]) => boolean) {
  const out: string[] = [];
  const err: string[] = [];
  let stop: (() => void) | undefined;
  const code = await main([...argv, '--data-dir', dir], ENV, {
    out: (line) => {
      out.push(line);
      if (stopWhen?.(out)) stop?.();
    },
    err: (line) => err.push(line),
    onStop: (s) => {
      stop = s;
      return () => undefined;
    },
  });
  return { code, out, stderr: err.join('\n') };
}

const query = async (sql: string) =>
  JSON.parse((await cli(['query', '--json', sql])).out.join('\n')) as Record<string, unknown>[];

describe('two quote currencies', () => {
  it('one scheduled slot runs and loads both currencies, each its own run', async () => {
    const runLines = (lines: string[]) => lines.filter((l) => l.includes('"runId"'));
    const r = await cli(
      ['start', '--json', '--schedule', '*/15 * * * *'],
      (lines) => runLines(lines).length >= 2,
    );
    expect(r.code).toBe(0);
    const runs = runLines(r.out).map(
      (l) => JSON.parse(l) as { runId: string; failed: boolean; load: { status: string } },
    );
    expect(runs.map((x) => x.runId.replace(/_\d{8}T\d{6}Z$/, ''))).toEqual([
      'coingecko_usd',
      'coingecko_eur',
    ]);
    // The same slot for both.
    expect(new Set(runs.map((x) => x.runId.slice(-16))).size).toBe(1);
    expect(runs.every((x) => !x.failed && x.load.status === 'loaded')).toBe(true);

    expect(
      await query('select vs_currency, count(*) as n from fact_market_snapshot group by all order by 1'),
    ).toEqual([
      { vs_currency: 'eur', n: 60 },
      { vs_currency: 'usd', n: 60 },
    ]);
    expect(await query('select vs_currency, status from ops_run order by 1')).toEqual([
      { vs_currency: 'eur', status: 'loaded' },
      { vs_currency: 'usd', status: 'loaded' },
    ]);
  }, 60_000);

  it('run does the same for a given slot, and prices differ by currency', async () => {
    const r = await cli(['run', '--slot', '2026-11-21T05:00:00Z']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^coingecko_usd_20261121T050000Z: extracted 60 records/);
    expect(r.out[1]).toMatch(/^coingecko_eur_20261121T050000Z: extracted 60 records/);
    expect(r.out[2]).toMatch(/^2 run\(s\): 2 ok, 0 failed; 120 fact rows loaded/);
    const [row] = await query(
      "select sum(case when vs_currency = 'eur' then current_price end) / sum(case when vs_currency = 'usd' then current_price end) as ratio from fact_market_snapshot where slot_ts = '2026-11-21 05:00:00'",
    );
    expect(row!.ratio).toBeCloseTo(0.92, 6);
  }, 60_000);
});

describe('status per currency', () => {
  it('status --json has each currency freshness and rows; the text names them', async () => {
    const json = await cli(['status', '--json']);
    expect(json.code).toBe(0);
    const status = JSON.parse(json.out.join('\n')) as { currencies: Record<string, unknown>[] };
    expect(status.currencies).toEqual([
      {
        vsCurrency: 'eur',
        newestLoadedSlot: expect.any(String),
        ageSeconds: expect.any(Number),
        runsLoaded: 2,
        runsFailed: 0,
        factRows: 120,
      },
      expect.objectContaining({ vsCurrency: 'usd', runsLoaded: 2, factRows: 120 }),
    ]);
    const text = await cli(['status']);
    expect(text.out.join('\n')).toMatch(
      /^currencies: eur newest .* ago\), 2 run\(s\) loaded, 0 failed, 120 fact rows; usd newest .*, 120 fact rows$/m,
    );
  }, 30_000);
});
