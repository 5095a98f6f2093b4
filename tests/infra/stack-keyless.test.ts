import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig } from '../../functions/src/config.js';
import {
  ofType,
  one,
  PROJECT_NAME,
  removeFixtures,
  runProgram,
  stackConfig,
  type ProgramRun,
} from './support/harness.js';
import { grants, securityViolations } from './support/posture.js';

/**
 * The keyless plan without CI/CD: no secret at all, no trigger, and still the same posture. A second
 * file because the program is a module: one evaluation (one configuration) per module registry.
 */
let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram(
    stackConfig({
      [`${PROJECT_NAME}:coingeckoPlan`]: 'keyless',
      [`${PROJECT_NAME}:coingeckoApiKey`]: '',
      [`${PROJECT_NAME}:githubOwner`]: '',
      [`${PROJECT_NAME}:githubRepo`]: '',
      [`${PROJECT_NAME}:alertEmail`]: '',
      [`${PROJECT_NAME}:protectData`]: 'true',
      [`${PROJECT_NAME}:schedule`]: '*/30 * * * *',
      [`${PROJECT_NAME}:cadenceMinutes`]: '30',
      [`${PROJECT_NAME}:freshnessAlertMinutes`]: '90',
    }),
  );
});
afterAll(removeFixtures);

describe('keyless stack without CI/CD', () => {
  it('creates no secret, no secret access and no secret env var', () => {
    expect(ofType(run.resources, 'Secret')).toEqual([]);
    expect(ofType(run.resources, 'SecretVersion')).toEqual([]);
    expect(grants(run.resources).filter((g) => g.role.startsWith('roles/secretmanager'))).toEqual([]);
    const extract = one(run.resources, 'Function', '-extract');
    expect(
      (extract.inputs.serviceConfig as { secretEnvironmentVariables: unknown[] }).secretEnvironmentVariables,
    ).toEqual([]);
    const env = (extract.inputs.serviceConfig as { environmentVariables: Record<string, string> })
      .environmentVariables;
    expect(parseConfig(env).coingecko).toMatchObject({ plan: 'keyless', apiKey: undefined });
  });

  it('creates no deploy trigger and no deployer account', () => {
    expect(ofType(run.resources, 'Trigger')).toEqual([]);
    expect(ofType(run.resources, 'Account').map((a) => a.inputs.accountId)).not.toContain(
      'crypto-dev-deployer',
    );
    expect(run.outputs.deployTrigger).toBeUndefined();
  });

  it('keeps the same security posture', () => {
    expect(securityViolations(run.resources)).toEqual([]);
  });

  it('protects data when asked: table deletion protection, no force-destroy of the lake', () => {
    expect(one(run.resources, 'Bucket', 'lake-raw').inputs.forceDestroy).toBe(false);
    const tables = ofType(run.resources, 'Table');
    expect(
      tables.filter((t) => t.inputs.view === undefined).every((t) => t.inputs.deletionProtection === true),
    ).toBe(true);
    expect(one(run.resources, 'Dataset', 'warehouse-dataset').inputs.deleteContentsOnDestroy).toBe(false);
  });

  it('follows the configured schedule and reports the keyless budget without a monthly quota', () => {
    expect(one(run.resources, 'Job', 'scheduler-job').inputs.schedule).toBe('*/30 * * * *');
    expect(run.outputs.coingeckoBudget).toContain('no monthly quota');
    expect(ofType(run.resources, 'NotificationChannel')).toEqual([]);
  });
});
