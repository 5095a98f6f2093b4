import { allCharts, DASHBOARD } from '../../dashboards/definition.js';
import { DuckDbWarehouse } from '../../twin/src/adapters/duckdb-warehouse.js';

/** Every column the dashboard definition names exists in the view it names (twin DESCRIBE). */
let w: DuckDbWarehouse;
beforeAll(async () => {
  w = await DuckDbWarehouse.open(':memory:');
});
afterAll(() => w.close());

describe('the dashboard definition', () => {
  test.each(allCharts().map((c) => [c.id, c]))('%s reads columns its view has', async (_id, chart) => {
    const columns = new Set((await w.query(`describe ${chart.view}`)).map((r) => String(r.column_name)));
    const named = [
      ...chart.measures.map((m) => m.column),
      ...(chart.extraColumns ?? []),
      ...(chart.x ? [chart.x.column] : []),
      ...(chart.seriesBy ? [chart.seriesBy] : []),
      ...(chart.filters.dateColumn ? [chart.filters.dateColumn] : []),
      ...(chart.filters.assets ? ['coin_id'] : []),
      ...(chart.filters.currency ? ['vs_currency'] : []),
      chart.orderBy.split(' ')[0]!,
    ];
    expect(named.filter((c) => !columns.has(c))).toEqual([]);
  });

  test('chart ids are unique across pages', () => {
    const ids = allCharts().map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(DASHBOARD.pages.length).toBeGreaterThan(0);
  });
});
