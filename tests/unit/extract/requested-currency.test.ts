import { describe, expect, it } from '@jest/globals';
import {
  requestedCurrency,
  type ExtractHandlerSettings,
} from '../../../functions/src/extract/http-handler.js';

const settings: ExtractHandlerSettings = {
  vsCurrency: 'usd',
  vsCurrencies: ['usd', 'eur'],
  coinLimit: 250,
  perPage: 250,
  cadenceMinutes: 15,
};

describe('requestedCurrency (each Scheduler job names its currency)', () => {
  it('takes the body, then the query, else the default', () => {
    expect(requestedCurrency({ vsCurrency: 'eur' }, {}, settings)).toEqual({ vsCurrency: 'eur' });
    expect(requestedCurrency({}, { vsCurrency: 'eur' }, settings)).toEqual({ vsCurrency: 'eur' });
    // Jobs created before there were several currencies send `{}`.
    expect(requestedCurrency({}, {}, settings)).toEqual({ vsCurrency: 'usd' });
    expect(requestedCurrency(undefined, {}, settings)).toEqual({ vsCurrency: 'usd' });
  });

  it('refuses a currency that is not configured, naming the ones that are', () => {
    expect(requestedCurrency({ vsCurrency: 'gbp' }, {}, settings)).toEqual({
      error: 'vsCurrency must be one of the configured currencies (usd, eur), got "gbp"',
    });
    expect(requestedCurrency({ vsCurrency: 7 }, {}, settings)).toMatchObject({
      error: expect.stringContaining('got 7'),
    });
    expect(
      requestedCurrency({ vsCurrency: 'eur' }, {}, { ...settings, vsCurrencies: undefined }),
    ).toMatchObject({
      error: expect.stringContaining('(usd)'),
    });
  });
});
