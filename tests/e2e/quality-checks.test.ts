import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../twin/src/cli/main.js';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { scheduleRecordPath } from '../../twin/src/schedule-gaps.js';
import { twinPaths } from '../../twin/src/twin-paths.js';
import { pageBatch } from '../support/load-order-scenarios.js';
import { tempDir } from '../support/twin-harness.js';
import { saneCoin as coin } from '../support/sane-coin.js';

/**
 * Issue 11's acceptance for data quality: a load that breaks an assertion is visible in `status`,
 * `status --json` and the logs, with a clear message. Real CLI (`main`), replayed bodies.
 */

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], env: Record<string, string> = {}): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, env, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    onStop: () => () => undefined,
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

const CONTRADICTORY = 'coingecko_usd_20261121T050000Z';
const EMPTY = 'coingecko_usd_20261121T060000Z';
const SHORT = 'coingecko_usd_20261121T070000Z';
const BROKEN = 'coingecko_usd_20261121T080000Z';

let dir: string;
let dataDir: string;
let run: Result;
beforeAll(async () => {
  dir = tempDir('cmp-quality-');
  dataDir = join(dir, 'data');
  const replay = join(dir, 'replay');
  mkdirSync(replay);
  const at5 = '2026-11-21T05:01:00.000Z';
  writeFileSync(
    join(replay, '2026-11-21T05-01-00.json'),
    JSON.stringify([
      coin('bitcoin', at5, { current_price: 250 }), // above its ATH (and its 24h high)
      coin('tether', at5, { circulating_supply: 3000 }), // circulating above total supply
      coin('ripple', at5),
    ]),
  );
  writeFileSync(join(replay, '2026-11-21T06-00-00.json'), '[]');
  const at7 = '2026-11-21T07:02:00.000Z';
  writeFileSync(
    join(replay, '2026-11-21T07-02-00.json'),
    JSON.stringify([coin('bitcoin', at7), coin('tether', at7)]),
  );
  // --verbose: the pipeline's own log on stderr (without it, the run's sentence says the same).
  run = await cli(
    ['run', '--data-dir', dataDir, '--cadence', '60', '--source', `replay:${replay}`, '--verbose'],
    { COIN_LIMIT: '3' },
  );

  // An integrity break: a load whose dim_asset lacks a coin of its fact (as a corrupted dimension,
  // or a transform that lost the row, would leave it).
  const warehouse = await DuckDbWarehouse.open(twinPaths(dataDir).warehouse);
  try {
    const batch = pageBatch(new Date('2026-11-21T08:00:00Z'), [
      coin('bitcoin', '2026-11-21T08:00:30Z'),
      coin('cardano', '2026-11-21T08:00:30Z'),
    ]);
    await warehouse.loadBatch({
      ...batch,
      assetCandidates: batch.assetCandidates.filter((a) => a.coin_id !== 'cardano'),
    });
  } finally {
    await warehouse.close();
  }
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a load that breaks a quality assertion', () => {
  test('is named by `run` and logged with its check, run and message (--verbose, stderr)', () => {
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `${CONTRADICTORY}: extracted 3 records in 1 page(s); loaded 3 rows, rejected 0 (duplicates 0), ` +
        '3 new asset versions; quality: 3 warnings (circulating_above_total_supply, price_above_ath, ' +
        'price_outside_24h_range)',
    );
    expect(run.stdout).toMatch(new RegExp(`${EMPTY}: .*; quality: 1 warning \\(record_count\\)`));
    expect(run.stdout).toMatch(new RegExp(`${SHORT}: .*; quality: 1 warning \\(record_count\\)`));
    const warnings = run.stderr.split('\n').filter((l) => l.startsWith('warning: quality check'));
    expect(warnings).toEqual([
      `warning: quality check circulating_above_total_supply failed for ${CONTRADICTORY}: 1 of 3 coin(s) with a circulating supply above the total supply`,
      `warning: quality check price_above_ath failed for ${CONTRADICTORY}: 1 of 3 coin(s) priced above their all-time high`,
      `warning: quality check price_outside_24h_range failed for ${CONTRADICTORY}: 1 of 3 coin(s) priced outside their 24h low-high range`,
      `warning: quality check record_count failed for ${EMPTY}: empty response ([]): no coins, 3 expected`,
      `warning: quality check record_count failed for ${SHORT}: 2 of 3 expected coin(s) loaded`,
    ]);
  });

  test('is listed by `status`, errors first in each run, newest run first', async () => {
    const r = await cli(['status', '--data-dir', dataDir]);
    expect(r.code).toBe(0);
    const section = r.stdout.slice(r.stdout.indexOf('quality:')).split('\n\n')[0]!.split('\n');
    expect(section).toEqual([
      'quality: 1 error, 5 warnings in the last 4 run(s) checked',
      `  ERROR   ${BROKEN}  asset_dimension: 1 fact row(s) without a dim_asset version in effect at their slot`,
      `  WARNING ${SHORT}  record_count: 2 of 3 expected coin(s) loaded`,
      `  WARNING ${EMPTY}  record_count: empty response ([]): no coins, 3 expected`,
      `  WARNING ${CONTRADICTORY}  circulating_above_total_supply: 1 of 3 coin(s) with a circulating supply above the total supply`,
      `  WARNING ${CONTRADICTORY}  price_above_ath: 1 of 3 coin(s) priced above their all-time high`,
      `  WARNING ${CONTRADICTORY}  price_outside_24h_range: 1 of 3 coin(s) priced outside their 24h low-high range`,
    ]);
  });

  test('is in `status --json` under quality, camelCase', async () => {
    const r = await cli(['status', '--data-dir', dataDir, '--json']);
    const { quality } = JSON.parse(r.stdout) as { quality: Record<string, unknown> & { issues: object[] } };
    expect(quality).toMatchObject({ runsChecked: 4, errors: 1, warnings: 5 });
    expect(quality.issues[0]).toEqual({
      runId: BROKEN,
      checkName: 'asset_dimension',
      severity: 'error',
      observed: 1,
      expected: 0,
      message: '1 fact row(s) without a dim_asset version in effect at their slot',
      checkedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(quality.issues).toContainEqual(
      expect.objectContaining({
        runId: EMPTY,
        checkName: 'record_count',
        severity: 'warning',
        observed: 0,
        expected: 3,
        message: 'empty response ([]): no coins, 3 expected',
      }),
    );
  });
});

describe('missed slots of the schedule', () => {
  test('are a quality warning in `status` and `status --json`', async () => {
    const gapsDir = tempDir('cmp-quality-gaps-');
    try {
      const hour = 3_600_000;
      const base = Math.floor(Date.now() / hour) * hour;
      const at = (hoursAgo: number) => new Date(base - hoursAgo * hour).toISOString();
      expect((await cli(['run', '--data-dir', gapsDir, '--cadence', '60', '--slot', at(2)])).code).toBe(0);
      writeFileSync(
        scheduleRecordPath(gapsDir),
        JSON.stringify({ schedule: '0 * * * *', cadenceMinutes: 60, since: at(3) }),
      );
      const { quality } = JSON.parse((await cli(['status', '--data-dir', gapsDir, '--json'])).stdout) as {
        quality: { warnings: number; issues: Record<string, unknown>[] };
      };
      expect(quality.issues[0]).toMatchObject({
        runId: null,
        checkName: 'schedule_gaps',
        severity: 'warning',
        observed: 2,
        expected: 0,
        message: `2 of 3 slot(s) of "0 * * * *" since ${at(3)} have no run (newest: ${at(1)}, ${at(3)})`,
      });
      const text = (await cli(['status', '--data-dir', gapsDir])).stdout;
      expect(text).toContain(`  WARNING (schedule)  schedule_gaps: 2 of 3 slot(s) of "0 * * * *"`);
    } finally {
      rmSync(gapsDir, { recursive: true, force: true });
    }
  }, 60_000);
});
