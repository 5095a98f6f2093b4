import type { ChartDef } from '../../../dashboards/definition.js';
import type { QueryParams } from './data-source.js';

/**
 * What the page asks for: selected assets (CoinGecko ids), an inclusive UTC date range and the
 * quote currency (none: every currency, as before there were several).
 */
export interface ChartFilterValues {
  assets: readonly string[];
  from?: string;
  to?: string;
  currency?: string;
}

const CURRENCY = /^[a-z0-9]{2,10}$/;

const COIN_ID = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** More assets than any chart can show legibly; also bounds the SQL the page can cause. */
export const MAX_ASSETS = 25;

export class BadFilterError extends Error {
  override readonly name = 'BadFilterError';
}

/** Parses and checks the filter query string (`assets=a,b&from=YYYY-MM-DD&to=YYYY-MM-DD&currency=usd`). */
export function parseFilters(search: URLSearchParams): ChartFilterValues {
  const assets = (search.get('assets') ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  const bad = assets.filter((a) => !COIN_ID.test(a));
  if (bad.length > 0) throw new BadFilterError(`not a coin id: ${bad.join(', ')}`);
  if (assets.length > MAX_ASSETS) throw new BadFilterError(`at most ${MAX_ASSETS} assets at a time`);
  const date = (name: 'from' | 'to') => {
    const value = search.get(name) ?? undefined;
    if (value === undefined || value === '') return undefined;
    if (!DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
      throw new BadFilterError(`${name} must be a date YYYY-MM-DD, got ${JSON.stringify(value)}`);
    return value;
  };
  const from = date('from');
  const to = date('to');
  if (from !== undefined && to !== undefined && from > to) throw new BadFilterError('from is after to');
  const currency = search.get('currency') || undefined;
  if (currency !== undefined && !CURRENCY.test(currency))
    throw new BadFilterError(`currency must be a currency code such as usd, got ${JSON.stringify(currency)}`);
  return { assets, from, to, currency };
}

/** The columns a chart needs from its view, each once. */
export function chartColumns(chart: ChartDef): string[] {
  const columns = [
    ...(chart.x ? [chart.x.column] : []),
    ...(chart.seriesBy ? [chart.seriesBy] : []),
    ...chart.measures.map((m) => m.column),
    ...(chart.extraColumns ?? []),
    ...(chart.filters.assets ? ['coin_id', 'symbol'] : []),
  ];
  return [...new Set(columns)];
}

/**
 * The query for one chart: its columns from its view, filtered by the selected assets and date
 * range where the chart takes those filters, in the definition's order, capped at its limit. Only
 * identifiers from the definition are spliced; filter values travel as parameters.
 */
export function chartQuery(
  chart: ChartDef,
  filters: ChartFilterValues,
): { sql: string; params: QueryParams } {
  const where: string[] = [];
  const params: QueryParams = {};
  if (chart.filters.assets && filters.assets.length > 0) {
    const assets = chart.singleAsset ? filters.assets.slice(0, 1) : filters.assets;
    const names = assets.map((asset, i) => {
      params[`asset_${i}`] = asset;
      return `$asset_${i}`;
    });
    where.push(`coin_id in (${names.join(', ')})`);
  }
  if (chart.filters.currency && filters.currency !== undefined) {
    params.vs_currency = filters.currency;
    where.push('vs_currency = $vs_currency');
  }
  const dateColumn = chart.filters.dateColumn;
  if (dateColumn && filters.from) {
    params.date_from = filters.from;
    where.push(`${dateColumn} >= cast($date_from as date)`);
  }
  if (dateColumn && filters.to) {
    params.date_to = filters.to;
    where.push(`${dateColumn} <= cast($date_to as date)`);
  }
  const select =
    `select ${chartColumns(chart).join(', ')} from ${chart.view}` +
    (where.length > 0 ? ` where ${where.join(' and ')}` : '');
  const limit = Math.trunc(chart.limit);
  // A time axis over a long history keeps its newest rows, not its oldest, when the cap applies.
  const timeAxis = chart.x && (chart.x.format === 'date_utc' || chart.x.format === 'datetime_utc');
  const sql = timeAxis
    ? `select * from (${select} order by ${chart.x!.column} desc limit ${limit}) order by ${chart.orderBy}`
    : `${select} order by ${chart.orderBy} limit ${limit}`;
  return { sql, params };
}
