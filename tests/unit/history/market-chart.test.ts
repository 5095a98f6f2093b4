import {
  MarketChartShapeError,
  parseMarketChart,
  type HistoryPoint,
} from '../../../functions/src/history/market-chart.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FROM = Date.parse('2024-03-01T00:00:00Z');

/** A market_chart body from `[t, price, cap, volume]` rows (series share their timestamps). */
function body(rows: [number, number | null, number, number][]) {
  return {
    prices: rows.map(([t, p]) => [t, p]),
    market_caps: rows.map(([t, , c]) => [t, c]),
    total_volumes: rows.map(([t, , , v]) => [t, v]),
  };
}

const days = (n: number) => Array.from({ length: n }, (_, i) => FROM + i * DAY);
const iso = (points: HistoryPoint[]) => points.map((p) => p.ts.toISOString());
const daily = { granularity: 'daily' as const, from: new Date(FROM), to: new Date(FROM + 10 * DAY) };
const hourly = { granularity: 'hourly' as const, from: new Date(FROM), to: new Date(FROM + 2 * DAY) };

describe('parseMarketChart: edge cases of real answers', () => {
  test('a series that starts later than asked gives the points there are', () => {
    const parsed = parseMarketChart(
      body(
        days(10)
          .slice(4)
          .map((t) => [t, 1, 2, 3]),
      ),
      daily,
    );
    expect(iso(parsed.points)).toEqual(
      days(10)
        .slice(4)
        .map((t) => new Date(t).toISOString()),
    );
    expect(parsed.rejected).toEqual([]);
  });

  test('a missing day is a gap, not a made-up point', () => {
    const parsed = parseMarketChart(
      body(
        days(10)
          .filter((_, i) => i !== 3)
          .map((t) => [t, 1, 2, 3]),
      ),
      daily,
    );
    expect(parsed.points).toHaveLength(9);
    expect(iso(parsed.points)).not.toContain(new Date(FROM + 3 * DAY).toISOString());
  });

  test('the last point "now" (off the grid) does not double its day; the midnight point stands', () => {
    const now = FROM + 9 * DAY + 2 * HOUR + 42 * 60_000 + 17_000;
    const parsed = parseMarketChart(
      body([...days(10).map((t): [number, number, number, number] => [t, 1, 2, 3]), [now, 9, 9, 9]]),
      daily,
    );
    expect(parsed.points).toHaveLength(10);
    expect(parsed.points.at(-1)).toMatchObject({ price: 1, sourceTs: new Date(FROM + 9 * DAY) });
    expect(parsed.skipped).toBe(1);
  });

  test('zero market caps (CoinGecko has no supply) are null, the price is kept', () => {
    const parsed = parseMarketChart(body([[FROM, 0.5, 0, 10]]), daily);
    expect(parsed.points[0]).toMatchObject({ price: 0.5, marketCap: null, totalVolume: 10 });
  });

  test('millisecond timestamps off the hour are filed under their hour, keeping the source time', () => {
    const times = [FROM + 20 * 60_000 + 55_751, FROM + HOUR + 5 * 60_000 + 46_658, FROM + 2 * HOUR + 25_756];
    const parsed = parseMarketChart(body(times.map((t) => [t, 1, 2, 3])), hourly);
    expect(iso(parsed.points)).toEqual([
      '2024-03-01T00:00:00.000Z',
      '2024-03-01T01:00:00.000Z',
      '2024-03-01T02:00:00.000Z',
    ]);
    expect(parsed.points.map((p) => p.sourceTs.getTime())).toEqual(times);
  });

  test('two points in one hour: the earliest stands for it, whatever the order in the body', () => {
    const parsed = parseMarketChart(
      body([
        [FROM + 50 * 60_000, 2, 2, 2],
        [FROM + 10 * 60_000, 1, 1, 1],
      ]),
      hourly,
    );
    expect(parsed.points).toEqual([
      { ts: new Date(FROM), sourceTs: new Date(FROM + 10 * 60_000), price: 1, marketCap: 1, totalVolume: 1 },
    ]);
  });

  test('a short daily range, which CoinGecko answers hourly, thins to one point per day', () => {
    const times = Array.from({ length: 48 }, (_, i) => FROM + i * HOUR + 317);
    const parsed = parseMarketChart(body(times.map((t) => [t, 1, 2, 3])), daily);
    expect(iso(parsed.points)).toEqual(['2024-03-01T00:00:00.000Z', '2024-03-02T00:00:00.000Z']);
  });

  test('points outside the half-open range belong to the neighbouring chunk', () => {
    const parsed = parseMarketChart(
      body([
        [FROM - 1, 1, 1, 1],
        [FROM + 10 * DAY, 1, 1, 1],
        [FROM, 1, 1, 1],
      ]),
      daily,
    );
    expect(parsed.points).toHaveLength(1);
  });

  test('bad points are rejected one by one with a reason; good ones next to them load', () => {
    const parsed = parseMarketChart(
      {
        prices: [[FROM, 1], [FROM + DAY, null], [FROM + 2 * DAY, -1], ['x', 1], 7],
        market_caps: [],
        total_volumes: [],
      },
      daily,
    );
    expect(parsed.points).toEqual([
      { ts: new Date(FROM), sourceTs: new Date(FROM), price: 1, marketCap: null, totalVolume: null },
    ]);
    expect(parsed.rejected.map((r) => [r.index, r.reason])).toEqual([
      [1, 'price is not a non-negative number: null'],
      [2, 'price is not a non-negative number: -1'],
      [3, 'timestamp is not unix milliseconds'],
      [4, 'not a [timestamp, price] pair'],
    ]);
    expect(parsed.pointsIn).toBe(5);
  });

  test.each([
    [[], 'body is not a JSON object'],
    [{ status: { error_code: 429 } }, 'body has no "prices" array'],
    [{ prices: [], market_caps: [] }, 'body has no "total_volumes" array'],
  ])('a body that is not a market_chart answer: %j', (json, message) => {
    expect(() => parseMarketChart(json, daily)).toThrow(MarketChartShapeError);
    expect(() => parseMarketChart(json, daily)).toThrow(message);
  });
});
