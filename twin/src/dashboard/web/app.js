// The local dashboard page: draws every chart of the definition (GET /api/dashboard) from its JSON
// endpoint, applies the currency, asset and date filters, and polls so charts move as slots arrive, without
// reloading the page. `?refresh=MS` sets the polling interval (default 5 s).
import { chartOption, seriesNames } from './charts.js';
import { formatValue, utcDate, utcDateTime } from './format.js';

const DEFAULT_ASSETS = 5;
const DEFAULT_DAYS = 30;
const params = new URLSearchParams(location.search);
const refreshMs = Math.max(250, Number(params.get('refresh')) || 5000);

const $ = (id) => document.getElementById(id);
const state = { dashboard: null, meta: null, plots: new Map(), busy: false, again: false, refreshes: 0 };

async function getJson(path) {
  const response = await fetch(path, { cache: 'no-store' });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
  return body;
}

function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}

function layout(dashboard) {
  $('title').textContent = dashboard.title;
  document.title = `${dashboard.title} · local dashboard`;
  const pages = $('pages');
  for (const page of dashboard.pages) {
    const grid = el('div', { class: 'grid' });
    for (const chart of page.charts) {
      const body =
        chart.kind === 'kpi'
          ? el('div', { class: 'kpis' })
          : el('div', { class: 'plot', role: 'img', 'aria-label': chart.title });
      const card = el('section', { class: 'card', id: `chart-${chart.id}`, 'data-state': 'loading' }, [
        el('h3', {}, [chart.title]),
        el('p', { class: 'subtitle' }, [chart.subtitle]),
        body,
        el('div', { class: 'message', hidden: '' }),
      ]);
      grid.append(card);
      if (chart.kind !== 'kpi') state.plots.set(chart.id, echarts.init(body, null, { renderer: 'canvas' }));
    }
    pages.append(el('h2', { id: `page-${page.id}` }, [page.title]), grid);
  }
  addEventListener('resize', () => state.plots.forEach((p) => p.resize()));
}

/** The configured default currency when the warehouse has it, else the first it has. */
function defaultCurrency(currencies) {
  const preferred = state.dashboard.vsCurrency;
  return currencies.includes(preferred) ? preferred : (currencies[0] ?? preferred);
}

/** One option per loaded currency; the choice survives refreshes while it still has data. */
function fillCurrencies(currencies) {
  const select = $('currency');
  const previous = select.value;
  const chosen = currencies.includes(previous) ? previous : defaultCurrency(currencies);
  const same = [...select.options].map((o) => o.value).join() === currencies.join();
  if (!same) select.replaceChildren(...currencies.map((c) => el('option', { value: c }, [c.toUpperCase()])));
  select.value = chosen;
  select.disabled = currencies.length < 2;
}

/** The selected quote currency (the default before anything is loaded). */
const selectedCurrency = () => $('currency').value || state.dashboard.vsCurrency;

function fillFilters(meta) {
  fillCurrencies(meta.currencies ?? []);
  const select = $('assets');
  const previous = new Set([...select.selectedOptions].map((o) => o.value));
  select.replaceChildren(
    ...meta.assets.map((a, i) => {
      const option = el('option', { value: a.coin_id }, [
        `${(a.symbol ?? a.coin_id).toUpperCase()} · ${a.name ?? a.coin_id}`,
      ]);
      option.selected = previous.size > 0 ? previous.has(a.coin_id) : i < DEFAULT_ASSETS;
      return option;
    }),
  );
  if (!$('from').value && meta.last_date) {
    const from = new Date(Date.parse(`${meta.last_date}T00:00:00Z`) - DEFAULT_DAYS * 86_400_000);
    const first = meta.first_date ?? meta.last_date;
    $('from').value = utcDate(Math.max(from.getTime(), Date.parse(`${first}T00:00:00Z`)));
  }
}

function filterQuery() {
  const q = new URLSearchParams();
  q.set('currency', selectedCurrency());
  const assets = [...$('assets').selectedOptions].map((o) => o.value);
  if (assets.length > 0) q.set('assets', assets.join(','));
  if ($('from').value) q.set('from', $('from').value);
  if ($('to').value) q.set('to', $('to').value);
  return q.toString();
}

function showMessage(card, text) {
  const message = card.querySelector('.message');
  message.textContent = text;
  message.hidden = text === '';
  const plot = card.querySelector('.plot, .kpis');
  plot.style.visibility = text === '' ? 'visible' : 'hidden';
}

function renderKpis(chart, card, rows, currency) {
  const row = rows[0] ?? {};
  card
    .querySelector('.kpis')
    .replaceChildren(
      ...chart.measures.map((m) =>
        el('div', { class: 'kpi' }, [
          el('div', { class: 'value', 'data-column': m.column }, [
            formatValue(row[m.column], m.format, currency),
          ]),
          el('div', { class: 'label' }, [m.label]),
        ]),
      ),
    );
}

/** Symbols of the selected assets, in the list's order (largest market cap first). */
function selectedSymbols() {
  const selected = new Set([...$('assets').selectedOptions].map((o) => o.value));
  return (state.meta?.assets ?? []).filter((a) => selected.has(a.coin_id)).map((a) => a.symbol);
}

async function refreshChart(chart, query, currency) {
  const card = $(`chart-${chart.id}`);
  try {
    const { rows } = await getJson(`/api/charts/${chart.id}?${query}`);
    card.dataset.rows = String(rows.length);
    const order = selectedSymbols();
    card.dataset.series = JSON.stringify(seriesNames(chart, rows, order));
    // Rows whose measures are all null draw nothing (e.g. volatility needs two daily returns).
    const drawable = rows.some((row) => chart.measures.some((m) => row[m.column] !== null));
    if (!drawable) {
      card.dataset.state = 'empty';
      showMessage(
        card,
        rows.length === 0 ? 'No data for these filters yet.' : 'Not enough history yet for this chart.',
      );
      return;
    }
    if (chart.kind === 'kpi') renderKpis(chart, card, rows, currency);
    else state.plots.get(chart.id).setOption(chartOption(chart, rows, currency, order), { notMerge: true });
    showMessage(card, '');
    card.dataset.state = 'ok';
  } catch (error) {
    card.dataset.state = 'error';
    showMessage(card, `Cannot read this chart: ${error.message}`);
  }
}

async function refresh() {
  // One refresh at a time; a filter change during one runs another right after it.
  if (state.busy) {
    state.again = true;
    return;
  }
  state.busy = true;
  try {
    state.meta = await getJson('/api/meta');
    fillFilters(state.meta);
    const query = filterQuery();
    const currency = selectedCurrency();
    const charts = state.dashboard.pages.flatMap((p) => p.charts);
    await Promise.all(charts.map((chart) => refreshChart(chart, query, currency)));
    const newest = state.meta.newest_slot_ts ? utcDateTime(state.meta.newest_slot_ts) : 'nothing loaded yet';
    $('status').textContent = `newest slot ${newest} · refreshed ${utcDateTime(Date.now()).slice(11)}`;
    $('status').classList.remove('error');
    // For tests and scripts: which filters the charts on screen were drawn with.
    document.body.dataset.query = query;
    document.body.dataset.refreshes = String(++state.refreshes);
  } catch (error) {
    // The warehouse may be missing or busy for a moment: say so and try again at the next poll.
    $('status').textContent = `waiting for data: ${error.message}`;
    $('status').classList.add('error');
  } finally {
    state.busy = false;
    if (state.again) {
      state.again = false;
      refresh();
    }
  }
}

async function start() {
  state.dashboard = await getJson('/api/dashboard');
  layout(state.dashboard);
  $('filters').addEventListener('change', () => refresh());
  $('reset').addEventListener('click', () => {
    for (const o of $('assets').options) o.selected = o.index < DEFAULT_ASSETS;
    $('currency').value = defaultCurrency(state.meta?.currencies ?? []);
    $('from').value = '';
    $('to').value = '';
    refresh();
  });
  await refresh();
  setInterval(refresh, refreshMs);
}

start();
