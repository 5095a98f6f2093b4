import { allCharts, type ChartDef } from '../../../dashboards/definition.js';
import { BadFilterError, chartQuery, parseFilters } from '../../../twin/src/dashboard/chart-query.js';

/** The query behind each chart endpoint: filters as parameters, identifiers from the definition only. */
const chart = (id: string): ChartDef => allCharts().find((c) => c.id === id)!;
const filters = (query: string) => parseFilters(new URLSearchParams(query));

describe('parseFilters', () => {
  test('reads assets and an inclusive date range', () => {
    expect(filters('assets=bitcoin,ethereum&from=2026-11-01&to=2026-11-30')).toEqual({
      assets: ['bitcoin', 'ethereum'],
      from: '2026-11-01',
      to: '2026-11-30',
    });
    expect(filters('')).toEqual({ assets: [], from: undefined, to: undefined });
  });

  test.each([
    ["assets=bitcoin'); drop table ops_run; --", /not a coin id/],
    ['assets=BTC', /not a coin id/],
    ['from=2026-13-45', /from must be a date/],
    ['to=yesterday', /to must be a date/],
    ['from=2026-12-02&to=2026-12-01', /from is after to/],
    [`assets=${Array.from({ length: 26 }, (_, i) => `c${i}`).join(',')}`, /at most 25/],
  ])('refuses %s', (query, message) => {
    expect(() => filters(query)).toThrow(BadFilterError);
    expect(() => filters(query)).toThrow(message);
  });
});

describe('chartQuery', () => {
  test('filters assets and dates with parameters, newest rows kept under the cap', () => {
    const { sql, params } = chartQuery(
      chart('market_cap_history'),
      filters('assets=bitcoin,ethereum&from=2026-11-01&to=2026-11-30'),
    );
    expect(sql).toBe(
      'select * from (select slot_ts, symbol, market_cap, coin_id from v_market_snapshot' +
        ' where coin_id in ($asset_0, $asset_1) and snapshot_date >= cast($date_from as date)' +
        ' and snapshot_date <= cast($date_to as date) order by slot_ts desc limit 20000) order by slot_ts',
    );
    expect(params).toEqual({
      asset_0: 'bitcoin',
      asset_1: 'ethereum',
      date_from: '2026-11-01',
      date_to: '2026-11-30',
    });
  });

  test('the price chart reads v_price_history (snapshots and backfill), filtered on price_date', () => {
    const { sql } = chartQuery(chart('price_history'), filters('assets=bitcoin&from=2026-11-01'));
    expect(sql).toBe(
      'select * from (select ts, symbol, price, coin_id from v_price_history' +
        ' where coin_id in ($asset_0) and price_date >= cast($date_from as date)' +
        ' order by ts desc limit 20000) order by ts',
    );
  });

  test('a single-asset chart takes the first selected asset only', () => {
    const { params } = chartQuery(chart('daily_candles'), filters('assets=bitcoin,ethereum'));
    expect(params).toEqual({ asset_0: 'bitcoin' });
  });

  test('charts without filters ignore them', () => {
    const { sql, params } = chartQuery(chart('top_movers'), filters('assets=bitcoin&from=2026-11-01'));
    expect(sql).toBe(
      'select symbol, price_change_percentage_24h from v_top_movers order by price_change_percentage_24h desc limit 20',
    );
    expect(params).toEqual({});
  });

  test('run health filters on the run date', () => {
    const { sql } = chartQuery(chart('run_health'), filters('from=2026-11-01'));
    expect(sql).toContain('where slot_date >= cast($date_from as date)');
  });
});

describe('the currency filter', () => {
  test('parses a currency code and refuses anything else', () => {
    expect(filters('currency=eur').currency).toBe('eur');
    expect(filters('currency=').currency).toBeUndefined();
    expect(() => filters("currency=eur'--")).toThrow(
      /currency must be a currency code such as usd, got "eur'--"/,
    );
  });

  test('every chart filters on vs_currency, as a parameter', () => {
    const { sql, params } = chartQuery(chart('price_history'), filters('currency=eur&assets=bitcoin'));
    expect(sql).toContain(' where coin_id in ($asset_0) and vs_currency = $vs_currency order by');
    expect(params).toEqual({ asset_0: 'bitcoin', vs_currency: 'eur' });
    for (const c of allCharts()) {
      expect({ id: c.id, currency: c.filters.currency }).toEqual({ id: c.id, currency: true });
      expect(chartQuery(c, filters('currency=eur')).params).toMatchObject({ vs_currency: 'eur' });
    }
  });

  test('without a currency nothing is filtered (a one-currency warehouse reads as before)', () => {
    const { sql, params } = chartQuery(chart('top_movers'), filters(''));
    expect(sql).not.toContain('vs_currency');
    expect(params).toEqual({});
  });
});
