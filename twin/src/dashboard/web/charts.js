// Turns one chart of the dashboard definition and its rows into an ECharts option. Pure functions:
// app.js owns the page, the filters and the polling.
import { formatValue } from './format.js';

const PALETTE = ['#3b6fd8', '#e0892b', '#2e9e6a', '#c8435b', '#8a5cc7', '#1f9bb3', '#b3872f', '#6b7280'];
const UP = '#2e9e6a';
const DOWN = '#c8435b';

const isTime = (format) => format === 'date_utc' || format === 'datetime_utc';
const time = (value) => new Date(value).getTime();

function axisFormatter(format, currency) {
  // Axis labels are short: compact currency for large prices and caps; a price below 100k keeps
  // its digits, or the ticks of a narrow range (one asset over a day) would all read "$56.1K".
  if (format !== 'currency_price') return (value) => formatValue(value, format, currency);
  return (value) =>
    formatValue(value, Math.abs(value) >= 100_000 ? 'currency_compact' : 'currency_price', currency);
}

function tooltip(chart, currency) {
  const measure = chart.measures[0];
  return {
    trigger: 'axis',
    confine: true,
    valueFormatter: (value) => formatValue(Array.isArray(value) ? value[1] : value, measure.format, currency),
  };
}

/** Time axis labels in UTC, as short as the zoom level allows. */
const TIME_LABELS = {
  year: '{yyyy}',
  month: '{MMM} {yyyy}',
  day: '{MMM} {d}',
  hour: '{HH}:{mm}',
  minute: '{HH}:{mm}',
  second: '{HH}:{mm}:{ss}',
};

/** A time axis; daily data gets day ticks only (no hours between two dates). */
function timeAxis(format) {
  const daily = format === 'date_utc';
  return {
    type: 'time',
    minInterval: daily ? 86_400_000 : undefined,
    axisLabel: {
      hideOverlap: true,
      formatter: daily ? { ...TIME_LABELS, month: '{MMM} {d}', year: '{MMM} {d}' } : TIME_LABELS,
    },
  };
}

function base(chart, currency, legend, bottom = 28) {
  return {
    color: PALETTE,
    // Every time on the dashboard is UTC, like the slots and the views' dates.
    useUTC: true,
    animation: false,
    // containLabel: the grid makes room for the widest axis label ($56,500.00 was clipped at 64 px).
    grid: { left: 8, right: 16, top: legend ? 36 : 16, bottom: Math.max(8, bottom - 24), containLabel: true },
    legend: legend ? { top: 0, type: 'scroll', data: legend } : undefined,
    tooltip: tooltip(chart, currency),
  };
}

/** Rows grouped by a column's value, keeping first-seen order. */
function groupBy(rows, column) {
  const groups = new Map();
  for (const row of rows) {
    const key = row[column] ?? '?';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  return groups;
}

/** Groups in the order of `order` (the selected assets), unknown ones last: same asset, same colour. */
function ordered(groups, order) {
  const rank = (key) => {
    const i = order.indexOf(key);
    return i === -1 ? order.length : i;
  };
  return [...groups].sort(([a], [b]) => rank(a) - rank(b));
}

function lineOption(chart, rows, currency, order) {
  const x = chart.x.column;
  const measure = chart.measures[0];
  // Prices of different assets differ by orders of magnitude: a log axis keeps them all readable.
  const log = Boolean(chart.seriesBy) && measure.format === 'currency_price';
  const point = (row, column) => {
    const v = row[column];
    return [time(row[x]), log && !(v > 0) ? null : v];
  };
  let series;
  if (chart.seriesBy) {
    series = ordered(groupBy(rows, chart.seriesBy), order).map(([name, group]) => ({
      name: String(name).toUpperCase(),
      type: 'line',
      showSymbol: group.length < 40,
      data: group.map((row) => point(row, measure.column)),
    }));
  } else {
    series = chart.measures.map((m, i) => ({
      name: m.label,
      type: 'line',
      showSymbol: rows.length < 40,
      lineStyle: i === 0 ? { width: 2 } : { width: 1.5, type: 'dashed' },
      data: rows.map((row) => point(row, m.column)),
    }));
  }
  return {
    ...base(
      chart,
      currency,
      series.map((s) => s.name),
    ),
    xAxis: timeAxis(chart.x.format),
    yAxis: {
      type: log ? 'log' : 'value',
      scale: true,
      axisLabel: { formatter: axisFormatter(measure.format, currency) },
    },
    series,
  };
}

function candlestickOption(chart, rows, currency) {
  const x = chart.x.column;
  const [open, close, low, high] = chart.measures.map((m) => m.column);
  return {
    ...base(chart, currency, null),
    tooltip: {
      trigger: 'axis',
      confine: true,
      formatter: (params) => {
        const p = params[0];
        const row = rows[p.dataIndex];
        return [
          `<b>${p.axisValue}</b>`,
          ...chart.measures.map((m) => `${m.label}: ${formatValue(row[m.column], m.format, currency)}`),
        ].join('<br>');
      },
    },
    xAxis: { type: 'category', data: rows.map((r) => formatValue(r[x], chart.x.format)), boundaryGap: true },
    yAxis: {
      type: 'value',
      // Room above the highest high and below the lowest low, so no candle touches the frame.
      min: (extent) => extent.min - (extent.max - extent.min) * 0.08,
      max: (extent) => extent.max + (extent.max - extent.min) * 0.08,
      // The padded ends are not round numbers: label only the round ticks between them.
      axisLabel: {
        showMinLabel: false,
        showMaxLabel: false,
        formatter: axisFormatter('currency_price', currency),
      },
    },
    series: [
      {
        name: chart.title,
        type: 'candlestick',
        itemStyle: { color: UP, color0: DOWN, borderColor: UP, borderColor0: DOWN },
        data: rows.map((r) => [r[open], r[close], r[low], r[high]]),
      },
    ],
  };
}

function barOption(chart, rows, currency) {
  const x = chart.x.column;
  const categories = rows.map((r) =>
    isTime(chart.x.format) ? formatValue(r[x], chart.x.format) : String(r[x] ?? '?').toUpperCase(),
  );
  const signed = chart.measures.length === 1;
  const series = chart.measures.map((m, i) => ({
    name: m.label,
    type: 'bar',
    stack: signed ? undefined : 'total',
    data: rows.map((r) => {
      const value = r[m.column];
      if (signed) return { value, itemStyle: { color: value >= 0 ? UP : DOWN } };
      // A failed run loaded nothing: a red marker bar makes it visible among the loaded ones.
      if (r.status === 'failed' && i === 0) return { value: 1, itemStyle: { color: DOWN } };
      return value;
    }),
  }));
  return {
    ...base(chart, currency, signed ? null : series.map((s) => s.name), signed ? 52 : 28),
    color: [PALETTE[0], PALETTE[1]],
    xAxis: { type: 'category', data: categories, axisLabel: { hideOverlap: true, rotate: signed ? 45 : 0 } },
    yAxis: { type: 'value', axisLabel: { formatter: axisFormatter(chart.measures[0].format, currency) } },
    series,
  };
}

/**
 * The ECharts option for a chart of kind line, candlestick or bar. `order` lists series keys (the
 * selected assets' symbols) so that an asset keeps its colour from chart to chart.
 */
export function chartOption(chart, rows, currency, order = []) {
  switch (chart.kind) {
    case 'line':
      return lineOption(chart, rows, currency, order);
    case 'candlestick':
      return candlestickOption(chart, rows, currency);
    case 'bar':
      return barOption(chart, rows, currency);
    default:
      throw new Error(`no ECharts rendering for chart kind ${chart.kind}`);
  }
}

/** Names of the series a chart shows (the page exposes them for tests and screen readers). */
export function seriesNames(chart, rows, order = []) {
  if (chart.seriesBy)
    return ordered(groupBy(rows, chart.seriesBy), order).map(([k]) => String(k).toUpperCase());
  if (chart.kind === 'bar' && chart.measures.length === 1)
    return rows.map((r) => String(r[chart.x.column]).toUpperCase());
  return chart.measures.map((m) => m.label);
}
