import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  JSON_CONTENT_TYPE,
  errorEnvelope,
  type MarketChartQuery,
  type MarketQuery,
  type MarketResponder,
  type MarketResponse,
} from './types.js';
import { COIN_NOT_FOUND, type ChartBody, type ChartSeries } from './market-chart-series.js';

/**
 * Replays saved /coins/markets bodies (a lake export, or the corpus of real responses) through the
 * market server: the pipeline fetches "live" and gets exactly the bytes that were saved, so a real
 * history can be pushed through extract and load slot by slot.
 */

export interface ReplaySource extends MarketResponder {
  readonly dir: string;
  /** The folder's `*.json` files, by name (the corpus names sort chronologically). */
  readonly files: readonly string[];
  /** The file /coins/markets currently serves; undefined until `select`. */
  readonly selected: string | undefined;
  /** Reads `fileName` once; later requests are served from memory. */
  select(fileName: string): Promise<void>;
  /**
   * The slot a file stands for: its newest `last_updated`, or for a body without records (an error
   * body) the UTC `YYYY-MM-DDTHH-MM-SS` timestamp in its name.
   * @throws Error when neither is available.
   */
  slotTimeOf(fileName: string): Promise<Date>;
  /** Synchronous: the selected file is already in memory. */
  markets(query: MarketQuery): MarketResponse;
  /**
   * Answers a coin's range from every `market_chart_<coin id>_<vs currency>_….json` file of the
   * folder (their points merged, one per timestamp), keeping the points inside [from, to].
   */
  marketChartRange(query: MarketChartQuery): Promise<MarketResponse>;
}

/** `market_chart_<coin id>_<vs currency>_…` (CoinGecko ids hold no underscore). */
const CHART_FILE = /^market_chart_([a-z0-9.-]+)_([a-z0-9]+)_.*\.json$/;

function seriesOf(value: unknown): ChartSeries {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (p): p is [number, number] => Array.isArray(p) && typeof p[0] === 'number' && typeof p[1] === 'number',
  );
}

type Body = { kind: 'array'; records: unknown[] } | { kind: 'error'; status: number } | { kind: 'other' };

interface Loaded {
  name: string;
  bytes: Buffer;
  body: Body;
}

const NAME_TIMESTAMP = /(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})/;

function classify(bytes: Buffer): Body {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { kind: 'other' };
  }
  if (Array.isArray(value)) return { kind: 'array', records: value };
  const status = (value as { status?: { error_code?: unknown } } | null)?.status;
  if (typeof status === 'object' && status !== null && typeof status.error_code === 'number') {
    const code = status.error_code;
    // CoinGecko's own codes (10002, 10010, ...) are not HTTP statuses; they still mean failure.
    return { kind: 'error', status: Number.isInteger(code) && code >= 400 && code <= 599 ? code : 500 };
  }
  return { kind: 'other' };
}

function newestLastUpdated(records: unknown[]): Date | undefined {
  let newest = -Infinity;
  for (const record of records) {
    const value = (record as { last_updated?: unknown } | null)?.last_updated;
    if (typeof value !== 'string') continue;
    const t = Date.parse(value);
    if (!Number.isNaN(t) && t > newest) newest = t;
  }
  return newest === -Infinity ? undefined : new Date(newest);
}

function timestampInName(fileName: string): Date | undefined {
  const m = NAME_TIMESTAMP.exec(fileName);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(t);
  // Date.UTC rolls 2023-02-31 over into March; a name like that is not a real timestamp.
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59)
    return undefined;
  return back;
}

/**
 * Opens a folder of saved responses for replay.
 * @throws Error when the folder cannot be listed.
 */
export async function openReplay(dir: string): Promise<ReplaySource> {
  let files: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    files = entries
      .filter((e) => e.isFile() && e.name.endsWith('.json'))
      .map((e) => e.name)
      // Code-unit order, not locale order: stable across machines, and chronological for the corpus.
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (error) {
    throw new Error(
      `cannot open replay folder ${dir}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  const known = new Set(files);
  let current: Loaded | undefined;
  const charts = new Map<string, Promise<ChartBody | undefined>>();

  /** Every saved chart of one coin and currency, merged; undefined when the folder has none. */
  const chartOf = (coinId: string, vsCurrency: string): Promise<ChartBody | undefined> => {
    const key = `${coinId}|${vsCurrency}`;
    let loaded = charts.get(key);
    if (!loaded) {
      loaded = (async () => {
        const names = files.filter((f) => {
          const m = CHART_FILE.exec(f);
          return m?.[1] === coinId && m[2] === vsCurrency;
        });
        if (names.length === 0) return undefined;
        const merged = {
          prices: new Map<number, number>(),
          market_caps: new Map<number, number>(),
          total_volumes: new Map<number, number>(),
        };
        for (const name of names) {
          const body = JSON.parse((await readFile(join(dir, name))).toString('utf8')) as Record<
            string,
            unknown
          >;
          for (const series of ['prices', 'market_caps', 'total_volumes'] as const) {
            for (const [t, v] of seriesOf(body[series])) if (!merged[series].has(t)) merged[series].set(t, v);
          }
        }
        const sorted = (m: Map<number, number>): ChartSeries => [...m.entries()].sort((a, b) => a[0] - b[0]);
        return {
          prices: sorted(merged.prices),
          market_caps: sorted(merged.market_caps),
          total_volumes: sorted(merged.total_volumes),
        };
      })();
      charts.set(key, loaded);
    }
    return loaded;
  };

  const load = async (fileName: string): Promise<Loaded> => {
    if (!known.has(fileName)) throw new Error(`${fileName} is not a .json file in replay folder ${dir}`);
    if (current?.name === fileName) return current;
    const bytes = await readFile(join(dir, fileName));
    return { name: fileName, bytes, body: classify(bytes) };
  };

  const verbatim = (loaded: Loaded, status: number): MarketResponse => ({
    status,
    headers: { 'content-type': JSON_CONTENT_TYPE },
    body: loaded.bytes,
  });

  return {
    dir,
    files,
    get selected() {
      return current?.name;
    },
    async select(fileName) {
      current = await load(fileName);
    },
    async slotTimeOf(fileName) {
      const loaded = await load(fileName);
      const fromRecords = loaded.body.kind === 'array' ? newestLastUpdated(loaded.body.records) : undefined;
      const slot = fromRecords ?? timestampInName(fileName);
      if (!slot) {
        throw new Error(
          `cannot tell the slot of ${fileName}: no record carries a last_updated and the name has no ` +
            'YYYY-MM-DDTHH-MM-SS timestamp',
        );
      }
      return slot;
    },
    async marketChartRange(query: MarketChartQuery): Promise<MarketResponse> {
      const chart = await chartOf(query.coinId, query.vsCurrency);
      if (!chart) return COIN_NOT_FOUND;
      const from = query.from * 1000;
      const to = query.to * 1000;
      const inside = (s: ChartSeries) => s.filter(([t]) => t >= from && t <= to);
      return {
        status: 200,
        headers: { 'content-type': JSON_CONTENT_TYPE },
        body: JSON.stringify({
          prices: inside(chart.prices),
          market_caps: inside(chart.market_caps),
          total_volumes: inside(chart.total_volumes),
        }),
      };
    },
    markets(query: MarketQuery): MarketResponse {
      if (!current) return errorEnvelope(503, `no replay file selected in ${dir}`);
      const { body } = current;
      if (body.kind === 'error') return verbatim(current, body.status);
      if (body.kind === 'other') return verbatim(current, 200);
      if (query.page === 1 && query.perPage >= body.records.length) return verbatim(current, 200);
      // A page of a bigger file is re-serialised from the parsed records, so its bytes are not the
      // saved ones (`2.1e+15` comes back as `2100000000000000`); only whole-file answers are verbatim.
      const start = (query.page - 1) * query.perPage;
      const slice = body.records.slice(start, start + query.perPage);
      return { status: 200, headers: { 'content-type': JSON_CONTENT_TYPE }, body: JSON.stringify(slice) };
    },
  };
}
