import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { BigQueryScriptOnDuckDb } from '../support/bigquery-script-on-duckdb.js';
import { DAILY_DIR, requireCorpus } from '../support/corpus.js';
import { expectedAssetVersions, pageBatch, seededRandom, shuffled } from '../support/load-order-scenarios.js';

/**
 * The type 2 rule on real data: snapshots taken months apart, where CoinGecko really renamed coins
 * and changed logos, loaded in shuffled orders (with redeliveries) into the twin and through the
 * executed merge_run.sql. Both must give the history of loading in slot order.
 */
requireCorpus();
const ERROR_FILE = 'markets_usd_top100_2023-03-30T00-54-42.json';
const FILES = readdirSync(DAILY_DIR)
  .filter((f) => f.endsWith('.json') && f !== ERROR_FILE)
  .sort();
/** Ten snapshots spread over the corpus' three years. */
const SAMPLE = Array.from({ length: 10 }, (_, i) => FILES[Math.floor((i * (FILES.length - 1)) / 9)]!);

/** The file's capture time, to the minute: `markets_usd_top100_2024-01-02T03-04-05.json`. */
function slotOf(file: string): Date {
  const m = /_(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-\d{2}\.json$/.exec(file);
  if (!m) throw new Error(`unexpected corpus file name ${file}`);
  return new Date(`${m[1]}T${m[2]}:${m[3]}:00Z`);
}

const batches = SAMPLE.map((file) =>
  pageBatch(slotOf(file), JSON.parse(readFileSync(join(DAILY_DIR, file), 'utf8')) as unknown[]),
);
const DIM_ASSET = 'select * from dim_asset order by asset_key, valid_from';

describe('type 2 history over real snapshots, whatever the load order', () => {
  test('the sample holds real attribute changes', () => {
    const expected = expectedAssetVersions(batches);
    const assets = new Set(expected.map((v) => v.asset_key));
    expect(expected.length - assets.size).toBeGreaterThan(10);
  });

  test.each([1, 2])(
    'twin and executed merge_run.sql agree with the in-order history (order %i)',
    async (seed) => {
      const random = seededRandom(seed);
      const order = shuffled([...batches, ...batches.filter(() => random() < 0.3)], random);
      const twin = await DuckDbWarehouse.open(':memory:');
      const script = await BigQueryScriptOnDuckDb.open();
      try {
        for (const b of order) {
          const fromTwin = await twin.loadBatch(b);
          const fromScript = await script.loadBatch(b);
          expect(fromScript).toEqual({
            factRowsInserted: fromTwin.factRowsInserted,
            assetVersionsInserted: fromTwin.assetVersionsInserted,
          });
        }
        const expected = expectedAssetVersions(batches);
        expect(await twin.query(DIM_ASSET)).toEqual(expected);
        expect(await script.query(DIM_ASSET)).toEqual(expected);
      } finally {
        await twin.close();
        script.close();
      }
    },
    120_000,
  );
});
