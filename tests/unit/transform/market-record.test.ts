import { checkMarketRecord } from '../../../functions/src/transform/market-record.js';

const good = {
  id: 'bitcoin',
  symbol: 'BTC',
  name: 'Bitcoin',
  image: 'https://x/btc.png',
  current_price: 28137,
  market_cap: 543428753362,
  market_cap_rank: 1,
  fully_diluted_valuation: null,
  total_volume: 0,
  high_24h: null,
  low_24h: null,
  price_change_24h: null,
  price_change_percentage_24h: null,
  market_cap_change_24h: null,
  market_cap_change_percentage_24h: null,
  circulating_supply: 19322368.0,
  total_supply: 2.1e15,
  max_supply: null,
  ath: 69045,
  ath_change_percentage: -6.0e-5,
  ath_date: '2021-11-10T14:24:11.849Z',
  atl: 1e-9,
  atl_change_percentage: 41332.19618,
  atl_date: '2013-07-06T00:00:00.000Z',
  roi: { times: 84.1, currency: 'btc', percentage: 8413.9 },
  last_updated: '2023-03-20T00:02:17.864Z',
  an_extra_key: 'ignored',
};

describe('checkMarketRecord', () => {
  it('accepts messy but loadable records (nulls, exponents, extra keys, upper-case symbols)', () => {
    const r = checkMarketRecord(good);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.record).toMatchObject({
      symbol: 'BTC',
      total_supply: 2.1e15,
      atl: 1e-9,
      high_24h: null,
      total_volume: 0,
    });
    expect(r.record.last_updated).toEqual(new Date('2023-03-20T00:02:17.864Z'));
    expect(r.record.roi).toEqual({ times: 84.1, currency: 'btc', percentage: 8413.9 });
    expect(r.record).not.toHaveProperty('an_extra_key');
  });

  it('treats missing optional fields as null', () => {
    const r = checkMarketRecord({ id: 'x', symbol: 'x', name: 'X' });
    expect(r.ok && r.record.current_price).toBeNull();
    expect(r.ok && r.record.market_cap_rank).toBeNull();
    expect(r.ok && r.record.roi).toBeNull();
  });

  it.each([
    [{ ...good, id: undefined }, /id must be a string, got nothing \(missing\)/, null],
    [{ ...good, id: '  ' }, /id is empty/, null],
    [{ ...good, name: null }, /name must be a string, got null/, 'bitcoin'],
    [{ ...good, symbol: 5 }, /symbol must be a string, got number 5/, 'bitcoin'],
    [
      { ...good, current_price: '28137' },
      /current_price must be a number or null, got string "28137"/,
      'bitcoin',
    ],
    [{ ...good, market_cap: true }, /market_cap must be a number or null, got boolean true/, 'bitcoin'],
    [{ ...good, market_cap_rank: 1.5 }, /market_cap_rank is not an integer/, 'bitcoin'],
    [{ ...good, last_updated: 'yesterday' }, /last_updated is not a valid timestamp/, 'bitcoin'],
    [{ ...good, roi: 'high' }, /roi must be an object or null/, 'bitcoin'],
  ])('rejects %# with a reason', (input, reason, coinId) => {
    const r = checkMarketRecord(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toMatch(reason);
    expect(r.coinId).toBe(coinId);
  });

  it('lists every problem of a record in one reason', () => {
    const r = checkMarketRecord({ ...good, name: '', current_price: 'x', ath: {} });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toMatch(/name is empty/);
    expect(r.reason).toMatch(/current_price/);
    expect(r.reason).toMatch(/ath must be a number or null, got an object/);
  });

  it('rejects things that are not records', () => {
    for (const input of [null, 5, 'x', [1]]) {
      const r = checkMarketRecord(input);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(/record must be a JSON object/);
    }
  });
});
