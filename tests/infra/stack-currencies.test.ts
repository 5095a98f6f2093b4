import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig } from '../../functions/src/config.js';
import { planBudget } from '../../infra/planner.js';
import {
  ofType,
  PROJECT_NAME,
  removeFixtures,
  runProgram,
  stackConfig,
  type ProgramRun,
} from './support/harness.js';

/**
 * A stack with two quote currencies (vsCurrencies [usd, eur]) under Pulumi mocks: one Scheduler job
 * per currency, each naming its currency in the body, the functions told both, the budget doubled.
 * A file of its own: the program is a module, evaluated once per configuration.
 */
let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram(stackConfig({ [`${PROJECT_NAME}:vsCurrencies`]: JSON.stringify(['usd', 'eur']) }));
});
afterAll(removeFixtures);

type Json = Record<string, unknown>;
const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v == null ? undefined : (v as Json)[k]), o);

describe('two quote currencies', () => {
  it('creates one Scheduler job per currency, with the currency in its body; the first keeps the old name', () => {
    const jobs = ofType(run.resources, 'Job');
    expect(jobs.map((j) => [j.name, j.inputs.name])).toEqual([
      ['scheduler-job', 'crypto-dev-extract'],
      ['scheduler-job-eur', 'crypto-dev-extract-eur'],
    ]);
    const bodies = jobs.map(
      (j) =>
        JSON.parse(Buffer.from(String(get(j.inputs, 'httpTarget.body')), 'base64').toString()) as unknown,
    );
    expect(bodies).toEqual([{ vsCurrency: 'usd' }, { vsCurrency: 'eur' }]);
    // Same schedule, target, identity and retries: only the currency differs.
    const strip = (j: (typeof jobs)[number]) => ({
      ...j.inputs,
      name: undefined,
      description: undefined,
      httpTarget: { ...(j.inputs.httpTarget as Json), body: undefined },
    });
    expect(strip(jobs[1]!)).toEqual(strip(jobs[0]!));
    expect(get(jobs[0]!.inputs, 'schedule')).toBe('*/15 * * * *');
  });

  it('tells both functions every currency, in a form their config accepts', () => {
    for (const f of ofType(run.resources, 'Function')) {
      const vars = get(f.inputs, 'serviceConfig.environmentVariables') as Record<string, string>;
      expect([vars.VS_CURRENCY, vars.VS_CURRENCIES]).toEqual(['usd', 'usd,eur']);
      expect(parseConfig({ ...vars, COINGECKO_API_KEY: 'k' }).vsCurrencies).toEqual(['usd', 'eur']);
    }
  });

  it('exports every job, and a budget with twice the calls of one currency', () => {
    expect(run.outputs.schedulerJobs).toEqual(['crypto-dev-extract', 'crypto-dev-extract-eur']);
    expect(run.outputs.schedulerJob).toBe('crypto-dev-extract');
    const one = planBudget({
      plan: 'demo',
      coinLimit: 250,
      perPage: 250,
      schedule: '*/15 * * * *',
      cadenceMinutes: 15,
    });
    expect(one.callsPerMonth).toBe(2976);
    expect(run.outputs.coingeckoBudget).toContain(
      `x 2 currencies, 5,952 runs in a 31-day month = 5,952 calls of 10,000`,
    );
    expect(run.outputs.coingeckoBudget).toContain('peak 2 of 30 calls per minute');
  });
});
