import { VIEW_FILES } from '../../functions/src/schema/bigquery-schema.js';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';
import { analysisOptionsFor, renderTestSql, useZetaSql } from '../support/zetasql.js';

/**
 * The analytics views are a contract across engines: every BigQuery view (its columns as ZetaSQL
 * resolves them) has a twin view in DuckDB with the same columns in the same order (DESCRIBE), and
 * the columns the issue promises exist in both.
 */
const zetasql = useZetaSql();

const CONTRACT: Record<string, readonly string[]> = {
  v_latest_snapshot: ['coin_id', 'symbol', 'name', 'vs_currency', 'slot_ts', 'current_price'],
  v_daily_ohlc: [
    'snapshot_date',
    'coin_id',
    'symbol',
    'name',
    'vs_currency',
    'open_price',
    'high_price',
    'low_price',
    'close_price',
  ],
  v_daily_indicators: [
    'snapshot_date',
    'coin_id',
    'vs_currency',
    'close_price',
    'sma_7d',
    'sma_30d',
    'volatility_30d',
  ],
  v_market_dominance: ['slot_ts', 'coin_id', 'vs_currency', 'market_cap', 'dominance_pct'],
  v_top_movers: ['slot_ts', 'coin_id', 'direction', 'mover_rank', 'price_change_percentage_24h'],
  v_freshness: ['newest_slot_ts', 'minutes_since_newest_slot'],
  v_run_health: ['run_id', 'slot_ts', 'status', 'records_loaded', 'records_rejected'],
  v_price_history: [
    'coin_id',
    'vs_currency',
    'ts',
    'price',
    'market_cap',
    'total_volume',
    'granularity',
    'source',
  ],
};

const viewName = (file: string) => file.replace(/^views\/(.*)\.sql$/, '$1');

let twin: DuckDbWarehouse;
beforeAll(async () => {
  twin = await DuckDbWarehouse.open(':memory:');
});
afterAll(() => twin.close());

async function bigQueryColumns(file: string): Promise<string[]> {
  const [view] = await zetasql().analyseScript(renderTestSql(file), analysisOptionsFor(file));
  expect(view?.error).toBeUndefined();
  return view?.outputColumns ?? [];
}

const twinColumns = async (name: string) =>
  (await twin.query(`describe ${name}`)).map((r) => String(r.column_name));

describe('every BigQuery view has a twin view with the same columns', () => {
  test.each(VIEW_FILES.map((f) => [viewName(f), f]))('%s', async (name, file) => {
    const expected = await bigQueryColumns(file);
    expect(expected.length).toBeGreaterThan(0);
    expect(await twinColumns(name)).toEqual(expected);
  });

  test('the twin has no analytics view BigQuery lacks', async () => {
    const views = (await twin.query(`select view_name from duckdb_views() where not internal`)).map((r) =>
      String(r.view_name),
    );
    expect(views.sort()).toEqual(VIEW_FILES.map(viewName).sort());
  });
});

describe('the contract columns exist in both engines', () => {
  test.each(Object.entries(CONTRACT))('%s', async (name, columns) => {
    const file = VIEW_FILES.find((f) => viewName(f) === name);
    expect(file).toBeDefined();
    expect(await bigQueryColumns(file!)).toEqual(expect.arrayContaining([...columns]));
    expect(await twinColumns(name)).toEqual(expect.arrayContaining([...columns]));
  });
});
