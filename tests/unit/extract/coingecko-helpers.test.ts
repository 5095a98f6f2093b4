import {
  MAX_PER_PAGE,
  planPages,
  readErrorEnvelope,
} from '../../../functions/src/extract/coingecko-client.js';

describe('planPages', () => {
  it('spreads the coin limit evenly over the fewest pages', () => {
    expect(planPages(300, 250)).toEqual({ pages: 2, perPage: 150 });
    expect(planPages(250, 250)).toEqual({ pages: 1, perPage: 250 });
    expect(planPages(1000, 250)).toEqual({ pages: 4, perPage: 250 });
    expect(planPages(251, 250)).toEqual({ pages: 2, perPage: 126 });
    expect(planPages(7, 3)).toEqual({ pages: 3, perPage: 3 });
    expect(planPages(1, 250)).toEqual({ pages: 1, perPage: 1 });
  });

  it(`never asks for more than ${MAX_PER_PAGE} per page`, () => {
    expect(planPages(500, 1000)).toEqual({ pages: 2, perPage: 250 });
    expect(planPages(20_000, 5000)).toEqual({ pages: 80, perPage: 250 });
    for (const [limit, per] of [
      [1, 1],
      [999, 251],
      [12_345, 10_000],
    ] as const) {
      const plan = planPages(limit, per);
      expect(plan.perPage).toBeLessThanOrEqual(MAX_PER_PAGE);
      expect(plan.pages * plan.perPage).toBeGreaterThanOrEqual(limit);
    }
  });
});

describe('readErrorEnvelope', () => {
  it('reads the classic status envelope', () => {
    expect(
      readErrorEnvelope({ status: { error_code: 429, error_message: "You've exceeded the Rate Limit." } }),
    ).toEqual({ errorCode: 429, errorMessage: "You've exceeded the Rate Limit." });
  });

  it('reads the nested error envelope used for plan-window errors', () => {
    expect(
      readErrorEnvelope({
        error: {
          status: { timestamp: '2024-01-01T00:00:00Z', error_code: 10012, error_message: 'too far back' },
        },
      }),
    ).toEqual({ errorCode: 10012, errorMessage: 'too far back' });
  });

  it('normalises a numeric string code and accepts a plain error string', () => {
    expect(readErrorEnvelope({ status: { error_code: '10002' } })).toEqual({
      errorCode: 10002,
      errorMessage: undefined,
    });
    expect(readErrorEnvelope({ error: 'invalid vs_currency' })).toEqual({
      errorMessage: 'invalid vs_currency',
    });
  });

  it('does not mistake data for an envelope', () => {
    expect(readErrorEnvelope([{ id: 'bitcoin' }])).toBeUndefined();
    expect(readErrorEnvelope({ gecko_says: '(V3) To the Moon!' })).toBeUndefined();
    expect(readErrorEnvelope({ status: 'ok' })).toBeUndefined();
    expect(readErrorEnvelope(null)).toBeUndefined();
    expect(readErrorEnvelope('error code: 1015')).toBeUndefined();
  });
});
