import type { Granularity } from './chunk-plan.js';

/**
 * Reads a `/coins/{id}/market_chart(/range)` body, `{prices, market_caps, total_volumes}` with each
 * an array of `[unix_ms, value]`, into points on the backfill's grain (asset, currency, granularity,
 * timestamp). CoinGecko's timestamps are not on a grid: hourly points fall anywhere in the hour
 * (`21:20:55.751`), and the last point of an answer is "now". Each point is therefore filed under
 * the start of its hour or UTC day (`ts`, the grain), keeping the source's own time (`sourceTs`);
 * when several fall in one bucket the earliest wins, so a short daily range (which CoinGecko
 * answers hourly) thins to the point at or just after midnight, and "now" never doubles a day.
 */
export interface HistoryPoint {
  /** Start of the hour or UTC day the point belongs to. */
  ts: Date;
  /** CoinGecko's own timestamp of the point. */
  sourceTs: Date;
  price: number;
  /** Null when CoinGecko reports none (it sends 0 for coins without a known supply). */
  marketCap: number | null;
  totalVolume: number | null;
}

export interface RejectedPoint {
  /** Position in `prices`. */
  index: number;
  reason: string;
  raw: string;
}

export interface ParsedChart {
  points: HistoryPoint[];
  /** Points in `prices` (the series every point starts from). */
  pointsIn: number;
  rejected: RejectedPoint[];
  /** Points that fell in a bucket already taken (several per hour or day) or outside the range. */
  skipped: number;
}

/** The body is not a market_chart answer at all: terminal, the raw bytes stay in the lake. */
export class MarketChartShapeError extends Error {
  override readonly name = 'MarketChartShapeError';
}

const BUCKET_MS: Record<Granularity, number> = { hourly: 3_600_000, daily: 86_400_000 };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns a problem with the body's shape, or undefined when it is a market_chart answer. */
export function marketChartShapeProblem(json: unknown): string | undefined {
  if (!isRecord(json)) return 'body is not a JSON object with prices, market_caps and total_volumes';
  for (const key of ['prices', 'market_caps', 'total_volumes']) {
    if (!Array.isArray(json[key])) return `body has no "${key}" array`;
  }
  return undefined;
}

/** `[ts, value]` pairs by timestamp; entries that are not such a pair are left out. */
function byTimestamp(series: unknown[]): Map<number, unknown> {
  const map = new Map<number, unknown>();
  for (const entry of series) {
    if (Array.isArray(entry) && typeof entry[0] === 'number') map.set(entry[0], entry[1]);
  }
  return map;
}

const finiteOrNull = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;

/**
 * Parses a market_chart body into the points inside [from, to) on the granularity's grain.
 * @throws MarketChartShapeError when the body is not a market_chart answer.
 */
export function parseMarketChart(
  json: unknown,
  range: { granularity: Granularity; from: Date; to: Date },
): ParsedChart {
  const problem = marketChartShapeProblem(json);
  if (problem !== undefined) throw new MarketChartShapeError(problem);
  const body = json as Record<'prices' | 'market_caps' | 'total_volumes', unknown[]>;
  const caps = byTimestamp(body.market_caps);
  const volumes = byTimestamp(body.total_volumes);
  const bucket = BUCKET_MS[range.granularity];
  const from = range.from.getTime();
  const to = range.to.getTime();

  const rejected: RejectedPoint[] = [];
  const taken = new Map<number, HistoryPoint>();
  let skipped = 0;
  body.prices.forEach((entry, index) => {
    const reject = (reason: string) => {
      rejected.push({ index, reason, raw: JSON.stringify(entry) ?? 'null' });
    };
    if (!Array.isArray(entry) || entry.length < 2) return reject('not a [timestamp, price] pair');
    const [time, price] = entry as [unknown, unknown];
    if (typeof time !== 'number' || !Number.isInteger(time) || time <= 0) {
      return reject('timestamp is not unix milliseconds');
    }
    if (typeof price !== 'number' || !Number.isFinite(price) || price < 0) {
      return reject(`price is not a non-negative number: ${JSON.stringify(price)}`);
    }
    const start = Math.floor(time / bucket) * bucket;
    const previous = taken.get(start);
    // A point of a bucket that begins before the range belongs to the chunk before (ranges are
    // half-open); of several in one bucket, the earliest stands for it.
    if (start < from || start >= to || (previous && previous.sourceTs.getTime() <= time)) {
      skipped += 1;
      return undefined;
    }
    if (previous) skipped += 1;
    const cap = finiteOrNull(caps.get(time));
    taken.set(start, {
      ts: new Date(start),
      sourceTs: new Date(time),
      price,
      marketCap: cap === 0 ? null : cap,
      totalVolume: finiteOrNull(volumes.get(time)),
    });
  });
  const points = [...taken.values()].sort((a, b) => a.ts.getTime() - b.ts.getTime());
  return { points, pointsIn: body.prices.length, rejected, skipped };
}
