import { describe, expect, it } from '@jest/globals';
import { PLANS } from '../../functions/src/config.js';
import { DEFAULTS } from '../../infra/config.js';
import { CronExpressionParser } from 'cron-parser';
import { BudgetError, busiestMonth, cronFires, planBudget, type BudgetInput } from '../../infra/planner.js';

const defaults: BudgetInput = {
  plan: 'demo',
  coinLimit: DEFAULTS.coinLimit,
  perPage: DEFAULTS.perPage,
  schedule: DEFAULTS.schedule,
  cadenceMinutes: DEFAULTS.cadenceMinutes,
};

describe('CoinGecko call budget planner', () => {
  it('accepts the defaults on the free demo plan, with the figures it logs', () => {
    const plan = planBudget(defaults);
    expect(plan).toMatchObject({
      pages: 1,
      runsPerMonth: 31 * 96,
      callsPerMonth: 2976,
      monthlyCallsLimit: PLANS.demo.monthlyCalls,
      peakCallsPerMinute: 1,
      callsPerMinuteLimit: PLANS.demo.callsPerMinute,
      warning: undefined,
    });
    expect(plan.monthlyUse).toBeCloseTo(0.2976);
    expect(plan.summary).toBe(
      'CoinGecko demo plan: 1 page(s) per run (coinLimit 250 / perPage 250), 2,976 runs in a 31-day month = 2,976 calls of 10,000 (29.8%); peak 1 of 30 calls per minute (3.3%).',
    );
  });

  it('counts pages as ceil(coinLimit / perPage)', () => {
    expect(planBudget({ ...defaults, coinLimit: 251 }).pages).toBe(2);
    expect(
      planBudget({ ...defaults, coinLimit: 1000, perPage: 100, schedule: '0 * * * *', cadenceMinutes: 60 })
        .pages,
    ).toBe(10);
  });

  it('rejects a configuration over the monthly budget, naming the numbers and the fixes', () => {
    const over = { ...defaults, coinLimit: 500, schedule: '*/5 * * * *', cadenceMinutes: 5 };
    expect(() => planBudget(over)).toThrow(BudgetError);
    expect(() => planBudget(over)).toThrow(
      /monthly budget exceeded: 2 page\(s\) per run \(coinLimit 500 \/ perPage 250\) x 8,928 runs .* = 17,856 calls > 10,000 calls per month\. Run at most every 9 minutes .* lower coinLimit to at most 250/,
    );
  });

  it('rejects a run that needs more calls than the plan allows per minute', () => {
    expect(() =>
      planBudget({
        ...defaults,
        plan: 'keyless',
        coinLimit: 1500,
        schedule: '0 * * * *',
        cadenceMinutes: 60,
      }),
    ).toThrow(
      /keyless plan per-minute budget exceeded: 6 page\(s\) per run .* = 6 calls in one minute > 5 calls per minute\. Lower coinLimit to at most 1,250/,
    );
  });

  it('warns when little headroom is left', () => {
    const tight = planBudget({ ...defaults, schedule: '*/5 * * * *', cadenceMinutes: 5 });
    expect(tight.callsPerMonth).toBe(8928);
    expect(tight.warning).toMatch(/above 80.0%/);
  });

  it('has no monthly quota on the keyless plan and a large one on pro', () => {
    expect(planBudget({ ...defaults, plan: 'keyless' })).toMatchObject({
      monthlyCallsLimit: undefined,
      monthlyUse: undefined,
    });
    expect(
      planBudget({ ...defaults, plan: 'pro', coinLimit: 5000, schedule: '*/5 * * * *', cadenceMinutes: 5 })
        .callsPerMonth,
    ).toBe(20 * 8928);
  });

  it('rejects a schedule that fires twice in one slot', () => {
    expect(() => planBudget({ ...defaults, schedule: '*/5 * * * *', cadenceMinutes: 15 })).toThrow(
      /fires 3 times in the 15-minute slot starting 2026-01-01T00:00:00.000Z/,
    );
  });

  it('rejects schedules Cloud Scheduler would not take', () => {
    expect(() => planBudget({ ...defaults, schedule: '0 */15 * * * *' })).toThrow(/not a 5-field unix cron/);
    expect(() => planBudget({ ...defaults, schedule: 'every 15 minutes please' })).toThrow(BudgetError);
    expect(() => planBudget({ ...defaults, schedule: '0 0 L * *', cadenceMinutes: 1440 })).toThrow(
      /L, W, # or \?/,
    );
    expect(() => planBudget({ ...defaults, schedule: '0 0 * * 1#2', cadenceMinutes: 1440 })).toThrow(
      /L, W, # or \?/,
    );
  });

  it('judges a schedule by its busiest 31-day month, in UTC', () => {
    expect(busiestMonth('0 0 * * *').fires).toHaveLength(31);
    // Mondays: 4 in the window from January 1st, 5 in the one from February 1st (Feb 2 - Mar 2).
    const mondays = busiestMonth('30 12 * * 1');
    expect(mondays.fires.map((d) => d.toISOString().slice(0, 16))).toEqual([
      '2026-02-02T12:30',
      '2026-02-09T12:30',
      '2026-02-16T12:30',
      '2026-02-23T12:30',
      '2026-03-02T12:30',
    ]);
    // Restricted to June (30 days): the 31-day window from June 1st also takes in July 1st.
    const june = busiestMonth('0 6 * 6 *');
    expect(june.start.toISOString()).toBe('2026-06-01T00:00:00.000Z');
    expect(june.fires).toHaveLength(30);
    expect(planBudget({ ...defaults, schedule: '0 6 * 6 *', cadenceMinutes: 1440 }).runsPerMonth).toBe(30);
  });

  it('fires exactly when cron-parser says it does', () => {
    const from = new Date('2026-03-01T00:00:00Z');
    const to = new Date('2026-03-15T00:00:00Z');
    for (const schedule of [
      '*/15 * * * *',
      '7 */3 * * *',
      '0 9 1,15 * 1',
      '0 0 * * 0',
      '0 0 * * 7',
      '5 4 * 1-6 1-5',
      '*/20 8-17 * * MON-FRI',
    ]) {
      const expected: string[] = [];
      const it = CronExpressionParser.parse(schedule, {
        currentDate: new Date(from.getTime() - 1),
        endDate: to,
        tz: 'UTC',
      });
      while (it.hasNext()) {
        const at = it.next().toDate();
        if (at >= to) break;
        expected.push(at.toISOString());
      }
      expect([schedule, cronFires(schedule, from, to).map((d) => d.toISOString())]).toEqual([
        schedule,
        expected,
      ]);
    }
  });
});

describe('several quote currencies', () => {
  const pro: BudgetInput = { ...defaults, plan: 'pro', coinLimit: 1000, schedule: '*/15 * * * *' };

  it('with two currencies the per-minute and monthly figures double exactly', () => {
    const one = planBudget(pro);
    const two = planBudget({ ...pro, currencies: 2 });
    expect(one).toMatchObject({
      currencies: 1,
      pages: 4,
      runsPerMonth: 2976,
      callsPerMonth: 11_904,
      peakCallsPerMinute: 4,
    });
    expect(two).toMatchObject({
      currencies: 2,
      pages: 4,
      runsPerMonth: 2 * one.runsPerMonth,
      callsPerMonth: 2 * one.callsPerMonth,
      peakCallsPerMinute: 2 * one.peakCallsPerMinute,
    });
    expect(two.monthlyUse).toBeCloseTo(2 * one.monthlyUse!, 12);
    expect(two.perMinuteUse).toBeCloseTo(2 * one.perMinuteUse, 12);
    expect(two.summary).toBe(
      'CoinGecko pro plan: 4 page(s) per run (coinLimit 1,000 / perPage 250) x 2 currencies, 5,952 runs in a 31-day month = 23,808 calls of 500,000 (4.8%); peak 8 of 500 calls per minute (1.6%).',
    );
  });

  it('a plan that fits one currency can be over budget with more, and says how to fit', () => {
    expect(() => planBudget({ ...defaults, currencies: 3 })).not.toThrow(); // 8,928 of 10,000
    expect(() => planBudget({ ...defaults, currencies: 4 })).toThrow(
      /monthly budget exceeded: 1 page\(s\) per run \(coinLimit 250 \/ perPage 250\) x 4 currencies x 11,904 runs .* = 11,904 calls > 10,000 calls per month\. Run at most every 18 minutes .*, or list fewer currencies, or move to the pro plan/,
    );
    expect(() =>
      planBudget({
        ...defaults,
        plan: 'keyless',
        coinLimit: 750,
        schedule: '0 * * * *',
        cadenceMinutes: 60,
        currencies: 2,
      }),
    ).toThrow(/= 6 calls in one minute > 5 calls per minute\. Lower coinLimit to at most 500/);
  });

  it('refuses a currency count that is not a whole number of at least 1', () => {
    expect(() => planBudget({ ...defaults, currencies: 0 })).toThrow(
      /currencies must be a whole number of at least 1/,
    );
  });
});
