import { createMarketSimulator, type MarketSimulator } from '../../../twin/src/market/market-simulator.js';
import type { CoinMarket } from '../../../twin/src/market/types.js';

// The keys of a real /coins/markets item, in the API's order (the corpus files).
const COINGECKO_KEYS = [
  'id',
  'symbol',
  'name',
  'image',
  'current_price',
  'market_cap',
  'market_cap_rank',
  'fully_diluted_valuation',
  'total_volume',
  'high_24h',
  'low_24h',
  'price_change_24h',
  'price_change_percentage_24h',
  'market_cap_change_24h',
  'market_cap_change_percentage_24h',
  'circulating_supply',
  'total_supply',
  'max_supply',
  'ath',
  'ath_change_percentage',
  'ath_date',
  'atl',
  'atl_change_percentage',
  'atl_date',
  'roi',
  'last_updated',
];

const SLOT = new Date('2026-11-21T05:00:00Z');
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe('market simulator', () => {
  let sim: MarketSimulator;
  let market: CoinMarket[];

  beforeAll(() => {
    sim = createMarketSimulator();
    market = sim.marketAt(SLOT);
  });

  test('same seed and time give identical bytes; another seed gives another market', () => {
    const again = createMarketSimulator({ seed: 42 }).marketAt(new Date(SLOT.getTime()));
    expect(JSON.stringify(again)).toBe(JSON.stringify(market));
    const other = createMarketSimulator({ seed: 7 }).marketAt(SLOT);
    expect(other.map((c) => c.id)).not.toEqual(market.map((c) => c.id));
  });

  test('lists 500 coins by default and the requested count otherwise, ids unique', () => {
    expect(market).toHaveLength(500);
    expect(new Set(market.map((c) => c.id)).size).toBe(500);
    expect(createMarketSimulator({ coins: 37 }).marketAt(SLOT)).toHaveLength(37);
    expect(() => createMarketSimulator({ coins: 0 })).toThrow(RangeError);
  });

  test('records carry exactly the CoinGecko keys, in order', () => {
    for (const coin of market) expect(Object.keys(coin)).toEqual(COINGECKO_KEYS);
  });

  test('sorted by market cap desc with contiguous ranks; cap-less coins last with a null rank', () => {
    for (let i = 1; i < market.length; i++) {
      expect(market[i - 1]!.market_cap).toBeGreaterThanOrEqual(market[i]!.market_cap);
    }
    const ranked = market.filter((c) => c.market_cap_rank !== null);
    expect(ranked.map((c) => c.market_cap_rank)).toEqual(ranked.map((_, i) => i + 1));
    const unranked = market.filter((c) => c.market_cap_rank === null);
    expect(unranked.length).toBeGreaterThan(0);
    for (const c of unranked) expect(c.market_cap).toBe(0);
    expect(market.slice(-unranked.length)).toEqual(unranked);
  });

  test('prices span ~1e-9 to ~1e5 and supplies reach ~1e15', () => {
    const prices = market.map((c) => c.current_price);
    expect(Math.min(...prices)).toBeLessThan(1e-8);
    expect(Math.max(...prices)).toBeGreaterThan(1e4);
    const supplies = market.map((c) => c.circulating_supply);
    expect(Math.max(...supplies)).toBeGreaterThan(1e14);
    expect(Math.max(...supplies)).toBeLessThanOrEqual(1e15);
    for (const c of market) {
      expect(Number.isFinite(c.current_price) && c.current_price > 0).toBe(true);
      expect(Number.isFinite(c.market_cap)).toBe(true);
    }
  });

  test('prices move between two 15-minute slots', () => {
    const later = new Map(sim.marketAt(new Date(SLOT.getTime() + 15 * MINUTE)).map((c) => [c.id, c]));
    const moved = market.filter((c) => later.get(c.id)!.current_price !== c.current_price);
    expect(moved.length).toBeGreaterThan(market.length * 0.8);
  });

  test('24h fields are consistent with the current price', () => {
    for (const c of market) {
      if (c.high_24h === null) continue;
      expect(c.low_24h!).toBeLessThanOrEqual(c.current_price);
      expect(c.high_24h).toBeGreaterThanOrEqual(c.current_price);
      const before = c.current_price - c.price_change_24h!;
      expect(before).toBeGreaterThanOrEqual(c.low_24h! * (1 - 1e-9));
      expect(before).toBeLessThanOrEqual(c.high_24h * (1 + 1e-9));
      expect(c.price_change_percentage_24h!).toBeCloseTo((c.price_change_24h! / before) * 100, 3);
      expect(c.ath).toBeGreaterThanOrEqual(c.current_price);
      expect(c.atl).toBeLessThanOrEqual(c.current_price);
    }
  });

  test('has the nulls and zeros real data has', () => {
    const count = (f: (c: CoinMarket) => boolean) => market.filter(f).length;
    expect(count((c) => c.max_supply === null)).toBeGreaterThan(100);
    expect(count((c) => c.total_supply === null)).toBeGreaterThan(0);
    expect(count((c) => c.fully_diluted_valuation === null)).toBeGreaterThan(0);
    const withRoi = count((c) => c.roi !== null);
    expect(withRoi).toBeGreaterThan(0);
    expect(withRoi).toBeLessThan(market.length * 0.2);
    const no24h = market.filter((c) => c.high_24h === null);
    expect(no24h.length).toBeGreaterThan(0);
    for (const c of no24h) {
      expect([
        c.low_24h,
        c.price_change_24h,
        c.price_change_percentage_24h,
        c.market_cap_change_24h,
        c.market_cap_change_percentage_24h,
      ]).toEqual([null, null, null, null, null]);
      expect(c.total_volume).toBe(0);
      // Stale coins: the corpus has last_updated up to 12 days old.
      expect(SLOT.getTime() - Date.parse(c.last_updated)).toBeLessThanOrEqual(12 * DAY);
    }
  });

  test('last_updated is a little before the requested time for live coins', () => {
    const live = market.filter((c) => c.high_24h !== null);
    for (const c of live) {
      const lag = SLOT.getTime() - Date.parse(c.last_updated);
      expect(lag).toBeGreaterThan(0);
      expect(lag).toBeLessThanOrEqual(2 * MINUTE);
    }
  });

  test('some symbols are shared by two ids and some are upper-case', () => {
    const ids = new Map<string, string[]>();
    for (const c of market)
      ids.set(c.symbol.toLowerCase(), [...(ids.get(c.symbol.toLowerCase()) ?? []), c.id]);
    expect([...ids.values()].filter((v) => v.length > 1).length).toBeGreaterThan(0);
    expect(market.some((c) => c.symbol !== c.symbol.toLowerCase())).toBe(true);
  });

  test('scheduled renames show up in the output before and after their instant', () => {
    expect(sim.renames.length).toBeGreaterThanOrEqual(4);
    expect(sim.renames.some((r) => r.from.symbol !== r.to.symbol)).toBe(true);
    expect(sim.renames.some((r) => r.from.name !== r.to.name)).toBe(true);
    // A rebrand that is undone later, like huobi-token Huobi -> HTX -> Huobi.
    expect(
      sim.renames.some((r, i) =>
        sim.renames.slice(0, i).some((p) => p.id === r.id && p.from.name === r.to.name),
      ),
    ).toBe(true);
    for (const rename of sim.renames) {
      const find = (t: number) => sim.marketAt(new Date(t)).find((c) => c.id === rename.id)!;
      const before = find(rename.at.getTime() - 1);
      const after = find(rename.at.getTime());
      expect([before.symbol, before.name, before.image]).toEqual([
        rename.from.symbol,
        rename.from.name,
        rename.from.image,
      ]);
      expect([after.symbol, after.name, after.image]).toEqual([
        rename.to.symbol,
        rename.to.name,
        rename.to.image,
      ]);
      expect(sim.labelAt(rename.id, rename.at)).toEqual(rename.to);
    }
  });

  test('prices in another quote currency and adds a 7-day sparkline on request', () => {
    const eur = sim.marketAt(SLOT, { vsCurrency: 'EUR', sparkline: true });
    const usd = new Map(market.map((c) => [c.id, c]));
    for (const c of eur.slice(0, 20)) {
      expect(c.current_price / usd.get(c.id)!.current_price).toBeCloseTo(0.92, 4);
      expect(c.sparkline_in_7d?.price).toHaveLength(168);
    }
    expect(market[0]!.sparkline_in_7d).toBeUndefined();
    expect(() => sim.marketAt(SLOT, { vsCurrency: 'xyz' })).toThrow(/unsupported vs_currency/);
    expect(() => sim.marketAt(new Date('nope'))).toThrow(RangeError);
  });
});
