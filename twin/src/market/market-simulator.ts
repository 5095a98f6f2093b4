import type { CoinMarket, CoinMarketRoi } from './types.js';

/**
 * A seeded, deterministic stand-in for CoinGecko's /coins/markets. Every value is a pure function
 * of (seed, coin, time): prices are multi-scale value noise on fixed time grids (1 h up to 180 d)
 * evaluated by hashing, so any instant can be computed without history, two runs of the same slot
 * see identical bytes, and a retried run is indistinguishable from the first one. The market has the
 * awkward parts of the real data (see the corpus README): nulls, rank-less coins, stale coins with
 * empty 24 h fields, shared and upper-case symbols, prices from ~1e-9 to ~1e5, supplies up to
 * ~1e15, and coins that change name or symbol at fixed instants (to exercise type-2 history).
 *
 * It models the API's shape and awkwardness, not a market: ATH/ATL are fixed anchors widened by the
 * visible 24 h window rather than true running extremes, and FX rates are constants.
 */

export interface MarketSimulatorOptions {
  /** Default 42. */
  seed?: number;
  /** Number of listed coins; default 500. */
  coins?: number;
}

/** What type-2 history tracks for an asset. */
export interface AssetLabel {
  symbol: string;
  name: string;
  image: string;
}

/** A name/symbol/image change the simulator applies at a fixed instant. */
export interface ScheduledRename {
  id: string;
  /** From this instant on (inclusive) the coin carries `to`. */
  at: Date;
  from: AssetLabel;
  to: AssetLabel;
}

export interface MarketAtOptions {
  /** Quote currency, one of {@link SIMULATOR_VS_CURRENCIES}; default `usd`. */
  vsCurrency?: string;
  /** Adds `sparkline_in_7d` (168 hourly prices), as `sparkline=true` does. */
  sparkline?: boolean;
}

export interface MarketSimulator {
  readonly seed: number;
  readonly coinCount: number;
  /** Every coin id, in no particular order. */
  readonly ids: readonly string[];
  /** Scheduled renames, oldest first; several per year from 2025 to 2027. */
  readonly renames: readonly ScheduledRename[];
  /** The /coins/markets answer at `time`: every coin, market cap desc, ranks set. */
  marketAt(time: Date, options?: MarketAtOptions): CoinMarket[];
  /** The label a coin carries at `time`; undefined for an unknown id. */
  labelAt(id: string, time: Date): AssetLabel | undefined;
  /**
   * One market_chart point of a coin at `time` (the same price path /coins/markets samples), in
   * `vsCurrency`; undefined for an unknown id. Market cap is 0 where circulating supply is unknown,
   * as CoinGecko reports it.
   */
  chartPointAt(id: string, time: Date, vsCurrency?: string): ChartPoint | undefined;
}

/** A market_chart point: `[t, price]`, `[t, market_cap]`, `[t, total_volume]` share the time. */
export interface ChartPoint {
  price: number;
  marketCap: number;
  totalVolume: number;
}

/**
 * Quote currencies the simulator can price in. Constant rates on purpose: nothing downstream
 * depends on FX moving, and constants keep every currency's output a pure function of time.
 */
export const SIMULATOR_VS_CURRENCIES: Readonly<Record<string, number>> = Object.freeze({
  usd: 1,
  eur: 0.92,
  gbp: 0.79,
  jpy: 151.3,
});

// Module-level aliases, not `Math.x`: jest runs tests inside a vm context where every global
// lookup goes through an interceptor, which made a 500-coin snapshot ~20x slower there.
const { exp, floor, imul, max, min, round } = Math;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const YEAR_MS = 365.25 * DAY_MS;
/** Octave periods of the price noise; amplitudes scale with √period like a random walk's spread. */
const OCTAVE_HOURS = [1, 4, 24, 96, 720, 4320] as const;
const OCTAVE_MS = OCTAVE_HOURS.map((h) => h * HOUR_MS);
/** Chosen so the 24 h log-return spread comes out close to a coin's daily volatility. */
const OCTAVE_GAIN = 0.6;
const SUPPLY_EPOCH = Date.UTC(2025, 0, 1);
const RENAME_START = Date.UTC(2025, 0, 15);
const RENAME_SPACING_MS = 137 * DAY_MS;
const MAX_SUPPLY = 1e15;

// Hash stream tags: each random property of a coin draws from its own stream, so adding a
// property later does not reshuffle the others.
const Tag = {
  Coin: 1,
  Name: 2,
  Suffix: 3,
  Symbol: 4,
  Vol: 5,
  Supply: 6,
  Growth: 7,
  Total: 8,
  Max: 9,
  Volume: 10,
  Ath: 11,
  Atl: 12,
  Roi: 13,
  Image: 14,
  LastUpdated: 15,
  Stale: 16,
  Rename: 17,
  PriceNoise: 18,
  VolumeNoise: 19,
} as const;

function mix(x: number): number {
  // lowbias32 (Chris Wellons): a cheap full-avalanche 32-bit mixer.
  let h = x >>> 0;
  h ^= h >>> 16;
  h = imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

function hash(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = mix((h + mix((p | 0) ^ 0x5bd1e995)) >>> 0);
  return h;
}

/** Uniform in [0, 1). */
function unit(...parts: number[]): number {
  return hash(...parts) / 4_294_967_296;
}

/** `hash(a, b, c)` without the rest-array allocation: the lattice lookups are the hot path. */
function hash3(a: number, b: number, c: number): number {
  const h = mix((0x9e3779b9 + mix((a | 0) ^ 0x5bd1e995)) >>> 0);
  const h2 = mix((h + mix((b | 0) ^ 0x5bd1e995)) >>> 0);
  return mix((h2 + mix((c | 0) ^ 0x5bd1e995)) >>> 0);
}

/** Roughly standard normal (sum of three uniforms), bounded to ±3 so price bounds are known. */
function gauss(a: number, b: number, c: number): number {
  const h = hash3(a, b, c);
  return (h / 4_294_967_296 + mix(h + 1) / 4_294_967_296 + mix(h + 2) / 4_294_967_296 - 1.5) * 2;
}

/** Smoothly interpolated lattice noise; any x is computable on its own. */
function valueNoise(key: number, stream: number, x: number): number {
  const i = floor(x);
  const f = x - i;
  const s = f * f * (3 - 2 * f);
  const v0 = gauss(key, stream, i);
  const v1 = gauss(key, stream, i + 1);
  return v0 + (v1 - v0) * s;
}

function pick<T>(items: readonly T[], u: number): T {
  return items[min(items.length - 1, floor(u * items.length))]!;
}

/** 6 significant digits, as CoinGecko rounds prices. */
function sig(x: number): number {
  return +x.toPrecision(6);
}

function round5(x: number): number {
  return round(x * 1e5) / 1e5;
}

function roundSupply(x: number): number {
  return x >= 1e12 ? round(x) : round(x * 100) / 100;
}

const ONSETS = [
  'b',
  'k',
  'r',
  'z',
  't',
  'v',
  'l',
  'm',
  'x',
  'qu',
  'd',
  'n',
  's',
  'p',
  'c',
  'g',
  'f',
  'h',
  'j',
];
const NUCLEI = ['a', 'e', 'i', 'o', 'u', 'y', 'ae', 'io'];
const CODAS = ['', '', '', 'n', 'r', 'x', 'l', 'th', 'm', 's'];
const SUFFIXES = [
  '',
  '',
  '',
  '',
  '',
  ' Token',
  ' Protocol',
  ' Network',
  ' Finance',
  ' Coin',
  ' Chain',
  ' DAO',
  ' AI',
];
const REBRAND_SUFFIXES = [' Network', ' Protocol', ' AI', ' Chain', ' Labs'];
const ROI_CURRENCIES = ['usd', 'btc', 'eth'];

interface Coin {
  index: number;
  key: number;
  id: string;
  base: AssetLabel;
  /** Word the name was built from, reused by renames. */
  word: string;
  stable: boolean;
  stale: boolean;
  unknownCirculating: boolean;
  logP0: number;
  amps: number[];
  ampSum: number;
  supply0: number;
  growth: number;
  maxSupply: number | null;
  /** Total = circulating × (1 + totalExtra); null means total_supply is null. */
  totalExtra: number | null;
  volumeRatio: number;
  athFixed: number;
  athDate: string;
  atlFixed: number;
  atlDate: string;
  roi: { currency: string; icoPrice: number } | null;
  /** Label timeline: [instant ms, label], ascending. */
  timeline: Array<[number, AssetLabel]>;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function makeWord(key: number, stream: number): string {
  const syllables = 2 + floor(unit(key, stream, 0) * 2);
  let w = '';
  for (let i = 1; i <= syllables; i++) {
    w += pick(ONSETS, unit(key, stream, i, 1)) + pick(NUCLEI, unit(key, stream, i, 2));
    if (i === syllables) w += pick(CODAS, unit(key, stream, i, 3));
  }
  return w;
}

function symbolOf(word: string, u: number): string {
  const consonants = word.slice(1).replace(/[aeiouy]/g, '');
  const s = (word[0]! + consonants).slice(0, u < 0.5 ? 3 : 4);
  return s.length >= 3 ? s : word.slice(0, 4);
}

function imageOf(index: number, slug: string, key: number, version: number): string {
  const imageNo = index * 131 + 1 + (hash(key, Tag.Image) % 131);
  const stamp = 1_696_500_000 + (hash(key, Tag.Image, version) % 80_000_000);
  return `https://coin-images.coingecko.com/coins/images/${imageNo}/large/${slug}.png?${stamp}`;
}

function isoDay(ms: number, withTime: boolean, key: number, stream: number): string {
  const day = floor(ms / DAY_MS) * DAY_MS;
  return new Date(withTime ? day + (hash(key, stream, 9) % DAY_MS) : day).toISOString();
}

function buildCoins(seed: number, count: number): Coin[] {
  const usedIds = new Set<string>();
  const coins: Coin[] = [];
  const tailStart = floor(count * 0.9);
  for (let index = 0; index < count; index++) {
    const key = hash(seed, Tag.Coin, index);
    // Fixed residues rather than random draws guarantee every awkward case is present for any seed.
    const stable = index % 31 === 2;
    const stale = index % 137 === 101;
    const unknownCirculating = index % 113 === 71;
    const word = makeWord(key, Tag.Name);
    const name = stable
      ? `${capitalise(word)} USD`
      : capitalise(word) + pick(SUFFIXES, unit(key, Tag.Suffix));
    let id = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    for (let n = 2; usedIds.has(id); n++) id = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${n}`;
    usedIds.add(id);
    let symbol = stable ? `${word.slice(0, 2)}usd` : symbolOf(word, unit(key, Tag.Symbol));
    if (index % 71 === 40) symbol = symbol.toUpperCase();
    // Two different ids, one symbol: why dim_asset is keyed on id.
    if (index % 97 === 55) symbol = coins[index - 40]!.base.symbol;

    // Market cap falls with rank like a power law, then the last tenth drops to dust (~1e5-1e6).
    const tail = index >= tailStart ? ((index - tailStart) / max(1, count - tailStart)) * 3 : 0;
    const logCap = 12.1 - 1.25 * Math.log10(index + 1) - tail + (unit(key, Tag.Supply, 1) - 0.5) * 0.1;
    let logSupply: number;
    if (stable) logSupply = logCap;
    else if (index === 0) logSupply = 7.3;
    else if (index === count - 1 && count > 10) logSupply = 14.99;
    else {
      const lo = max(5, logCap - 5.5);
      const hi = min(14.9, logCap + 8.5);
      logSupply = lo + unit(key, Tag.Supply, 2) * (hi - lo);
    }
    const supply0 = 10 ** logSupply;
    const logP0 = (logCap - logSupply) * Math.LN10;
    const sigmaDaily = stable ? 0.0004 : index === 0 ? 0.025 : 0.02 + 0.06 * unit(key, Tag.Vol);
    const amps = OCTAVE_HOURS.map((h) => OCTAVE_GAIN * sigmaDaily * Math.sqrt(h / 24));
    const ampSum = amps.reduce((a, b) => a + b, 0);
    const hasMax = !stable && unit(key, Tag.Max) < 0.4;
    const maxSupply = hasMax ? min(MAX_SUPPLY, round(supply0 * (1.05 + 2 * unit(key, Tag.Max, 1)))) : null;
    const totalDraw = unit(key, Tag.Total);
    const totalExtra = totalDraw < 0.1 ? null : totalDraw < 0.5 ? 0 : unit(key, Tag.Total, 1) * 0.6;
    const athFixed = stable
      ? 1 + 0.3 * unit(key, Tag.Ath)
      : exp(logP0 + 1.5 * ampSum) * (1 + 2 * unit(key, Tag.Ath));
    const atlFixed = stable
      ? 1 - 0.5 * unit(key, Tag.Atl)
      : exp(logP0 - 1.5 * ampSum) / (1 + 20 * unit(key, Tag.Atl));
    const athDate = isoDay(Date.UTC(2021, 0, 1) + unit(key, Tag.Ath, 2) * 4 * YEAR_MS, true, key, Tag.Ath);
    const atlDate = isoDay(
      Date.UTC(2015, 0, 1) + unit(key, Tag.Atl, 2) * 6 * YEAR_MS,
      unit(key, Tag.Atl, 3) < 0.5,
      key,
      Tag.Atl,
    );
    const roi =
      !stable && unit(key, Tag.Roi) < 0.06
        ? {
            currency: pick(ROI_CURRENCIES, unit(key, Tag.Roi, 1)),
            icoPrice: exp(logP0 - 1 - 4 * unit(key, Tag.Roi, 2)),
          }
        : null;
    const base: AssetLabel = { symbol, name, image: imageOf(index, id, key, 0) };
    coins.push({
      index,
      key,
      id,
      base,
      word,
      stable,
      stale,
      unknownCirculating,
      logP0,
      amps,
      ampSum,
      supply0,
      growth: hasMax || stable ? 0.02 * unit(key, Tag.Growth) : 0.08 * unit(key, Tag.Growth),
      maxSupply,
      totalExtra,
      volumeRatio: stable ? 0.2 + 1.5 * unit(key, Tag.Volume) : 10 ** (-2.3 + 1.8 * unit(key, Tag.Volume)),
      athFixed,
      athDate,
      atlFixed,
      atlDate,
      roi,
      timeline: [],
    });
  }
  return coins;
}

function labelAtMs(coin: Coin, t: number): AssetLabel {
  let label = coin.base;
  for (const [at, l] of coin.timeline) {
    if (at <= t) label = l;
    else break;
  }
  return label;
}

/**
 * Renames on a fixed calendar (every ~137 days from 2025-01-15), cycling through the kinds the
 * corpus shows: a new name, a new symbol, a full rebrand (name, symbol, image), and a rebrand
 * undone (like `huobi-token` Huobi -> HTX -> Huobi).
 */
function scheduleRenames(seed: number, coins: Coin[]): ScheduledRename[] {
  const renames: ScheduledRename[] = [];
  if (coins.length < 3) return renames;
  const pool = min(coins.length - 1, 60);
  const count = min(8, pool);
  // Stablecoins keep their names: a rebranded "X USD" would look like a bug in the demo.
  const used = new Set<number>(
    coins
      .slice(0, pool + 1)
      .filter((c) => c.stable)
      .map((c) => c.index),
  );
  let previous: Coin | undefined;
  for (let r = 0; r < count; r++) {
    const at = RENAME_START + r * RENAME_SPACING_MS + (hash(seed, Tag.Rename, r) % 24) * HOUR_MS;
    const kind = r % 4;
    let coin: Coin;
    if (kind === 3 && previous) coin = previous;
    else {
      let i = 1 + (hash(seed, Tag.Rename, r, 1) % pool);
      while (used.has(i)) i = 1 + (i % pool);
      used.add(i);
      coin = coins[i]!;
    }
    const from = labelAtMs(coin, at);
    let to: AssetLabel;
    if (kind === 0) {
      to = { ...from, name: capitalise(coin.word) + pick(REBRAND_SUFFIXES, unit(coin.key, Tag.Rename, r)) };
    } else if (kind === 1) {
      to = { ...from, symbol: `eth${from.symbol.toLowerCase()}` };
    } else if (kind === 2) {
      const word = makeWord(coin.key, Tag.Rename * 100 + r);
      to = {
        name: capitalise(word),
        symbol: symbolOf(word, unit(coin.key, Tag.Rename, r, 2)),
        image: imageOf(coin.index, coin.id, coin.key, r + 1),
      };
    } else {
      to = coin.base;
    }
    if (to.name === from.name && to.symbol === from.symbol) to = { ...to, name: `${to.name} Classic` };
    coin.timeline.push([at, to]);
    renames.push({ id: coin.id, at: new Date(at), from, to });
    previous = coin;
  }
  return renames;
}

function logPriceAt(coin: Coin, t: number): number {
  let v = coin.logP0;
  for (let k = 0; k < OCTAVE_MS.length; k++) {
    v += coin.amps[k]! * valueNoise(coin.key, Tag.PriceNoise * 16 + k, t / OCTAVE_MS[k]!);
  }
  return v;
}

/** The coin's actual supply; `snapshot` reports 0 for coins whose circulating supply is unknown. */
function circulatingAt(coin: Coin, t: number): number {
  const years = (t - SUPPLY_EPOCH) / YEAR_MS;
  return min(coin.maxSupply ?? MAX_SUPPLY, MAX_SUPPLY, coin.supply0 * exp(coin.growth * years));
}

function volumeAt(coin: Coin, t: number, priceUsd: number): number {
  const noise = 0.4 * valueNoise(coin.key, Tag.VolumeNoise * 16, t / (6 * HOUR_MS));
  return coin.supply0 * priceUsd * coin.volumeRatio * exp(noise);
}

function snapshot(coin: Coin, time: number, rate: number, sparkline: boolean): CoinMarket {
  // Fresh coins were updated a few seconds to a minute and a half before the request; stale ones
  // (the corpus has `last_updated` up to 12 days old) froze days ago, and report no 24 h data.
  const minute = floor(time / 60_000);
  const lastUpdated = coin.stale
    ? time - (1 + 11 * unit(coin.key, Tag.Stale, floor(time / DAY_MS))) * DAY_MS
    : time - 3_000 - floor(unit(coin.key, Tag.LastUpdated, minute) * 87_000);
  const priceUsd = exp(logPriceAt(coin, lastUpdated));
  const price = sig(priceUsd * rate);
  const supply = circulatingAt(coin, lastUpdated);
  // CoinGecko shows circulating supply (and so market cap) as 0 when it cannot verify it.
  const circulating = coin.unknownCirculating ? 0 : supply;
  const marketCap = round(priceUsd * rate * circulating);
  const total =
    coin.totalExtra === null ? null : min(coin.maxSupply ?? Infinity, supply * (1 + coin.totalExtra));
  const dilutedSupply = coin.maxSupply ?? total;
  const label = labelAtMs(coin, time);

  let high: number | null = null;
  let low: number | null = null;
  let priceChange: number | null = null;
  let priceChangePct: number | null = null;
  let capChange: number | null = null;
  let capChangePct: number | null = null;
  let ath = max(coin.athFixed * rate, price);
  let athDate = coin.athFixed * rate >= price ? coin.athDate : new Date(lastUpdated).toISOString();
  let atl = min(coin.atlFixed * rate, price);
  let atlDate = coin.atlFixed * rate <= price ? coin.atlDate : new Date(lastUpdated).toISOString();
  if (!coin.stale) {
    // The 24 h range is sampled hourly plus the current instant, so current_price always lies
    // inside [low_24h, high_24h] and price_change_24h is exactly current minus the price 24 h ago.
    const start = lastUpdated - DAY_MS;
    const startUsd = exp(logPriceAt(coin, start));
    const first = sig(startUsd * rate);
    high = first;
    low = first;
    let highAt = start;
    let lowAt = start;
    for (let h = 1; h <= 24; h++) {
      const at = h === 24 ? lastUpdated : start + h * HOUR_MS;
      const p = h === 24 ? price : sig(exp(logPriceAt(coin, at)) * rate);
      if (p > high) [high, highAt] = [p, at];
      if (p < low) [low, lowAt] = [p, at];
    }
    priceChange = price - first;
    priceChangePct = round5((price / first - 1) * 100);
    const capBefore = coin.unknownCirculating ? 0 : round(startUsd * rate * circulatingAt(coin, start));
    capChange = marketCap - capBefore;
    capChangePct = capBefore > 0 ? round5((marketCap / capBefore - 1) * 100) : 0;
    if (high > ath) [ath, athDate] = [high, new Date(highAt).toISOString()];
    if (low < atl) [atl, atlDate] = [low, new Date(lowAt).toISOString()];
  }
  ath = sig(ath);
  atl = sig(atl);

  let roi: CoinMarketRoi | null = null;
  if (coin.roi) {
    const times = priceUsd / coin.roi.icoPrice - 1;
    roi = { times, currency: coin.roi.currency, percentage: times * 100 };
  }

  const record: CoinMarket = {
    id: coin.id,
    symbol: label.symbol,
    name: label.name,
    image: label.image,
    current_price: price,
    market_cap: marketCap,
    market_cap_rank: null,
    fully_diluted_valuation: dilutedSupply === null ? null : round(priceUsd * rate * dilutedSupply),
    total_volume: coin.stale ? 0 : round(volumeAt(coin, lastUpdated, priceUsd) * rate),
    high_24h: high,
    low_24h: low,
    price_change_24h: priceChange,
    price_change_percentage_24h: priceChangePct,
    market_cap_change_24h: capChange,
    market_cap_change_percentage_24h: capChangePct,
    circulating_supply: roundSupply(circulating),
    total_supply: total === null ? null : roundSupply(total),
    max_supply: coin.maxSupply,
    ath,
    ath_change_percentage: round5((price / ath - 1) * 100),
    ath_date: athDate,
    atl,
    atl_change_percentage: round5((price / atl - 1) * 100),
    atl_date: atlDate,
    roi,
    last_updated: new Date(lastUpdated).toISOString(),
  };
  if (sparkline) {
    const prices: number[] = [];
    for (let h = 167; h >= 0; h--) prices.push(sig(exp(logPriceAt(coin, lastUpdated - h * HOUR_MS)) * rate));
    record.sparkline_in_7d = { price: prices };
  }
  return record;
}

/**
 * Creates a deterministic market: the same seed and time always give the same records.
 * @throws RangeError for a non-positive or non-integer coin count.
 */
export function createMarketSimulator(options: MarketSimulatorOptions = {}): MarketSimulator {
  const seed = options.seed ?? 42;
  const count = options.coins ?? 500;
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`coins must be a positive integer, got ${count}`);
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const coins = buildCoins(seed, count);
  const renames = scheduleRenames(seed, coins);
  const byId = new Map(coins.map((c) => [c.id, c]));

  return {
    seed,
    coinCount: count,
    ids: coins.map((c) => c.id),
    renames,
    marketAt(time: Date, at: MarketAtOptions = {}): CoinMarket[] {
      const t = time.getTime();
      if (Number.isNaN(t)) throw new RangeError('invalid time');
      const vs = (at.vsCurrency ?? 'usd').toLowerCase();
      const rate = SIMULATOR_VS_CURRENCIES[vs];
      if (rate === undefined) throw new RangeError(`unsupported vs_currency: ${vs}`);
      const rows = coins.map((c) => snapshot(c, t, rate, at.sparkline ?? false));
      // Coins without a market cap have no rank and come last, as in the real API.
      rows.sort((a, b) => b.market_cap - a.market_cap || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      let rank = 0;
      for (const row of rows) row.market_cap_rank = row.market_cap > 0 ? ++rank : null;
      return rows;
    },
    labelAt(id: string, time: Date): AssetLabel | undefined {
      const coin = byId.get(id);
      return coin && labelAtMs(coin, time.getTime());
    },
    chartPointAt(id: string, time: Date, vsCurrency = 'usd'): ChartPoint | undefined {
      const coin = byId.get(id);
      const rate = SIMULATOR_VS_CURRENCIES[vsCurrency.toLowerCase()];
      if (!coin || rate === undefined) return undefined;
      const t = time.getTime();
      const priceUsd = exp(logPriceAt(coin, t));
      const circulating = coin.unknownCirculating ? 0 : circulatingAt(coin, t);
      return {
        price: sig(priceUsd * rate),
        marketCap: round(priceUsd * rate * circulating),
        totalVolume: round(volumeAt(coin, t, priceUsd) * rate),
      };
    },
  };
}
