import { describe, expect, it } from '@jest/globals';
import type { ConfigError } from '../../../functions/src/config.js';
import { parseConfig } from '../../../functions/src/config.js';
import { RunEventSchema } from '../../../functions/src/core/event.js';

/**
 * The functions validate with zod/mini, which on its own says only "Invalid input";
 * core/zod-messages.ts gives it classic zod's English messages, which config errors, rejected
 * events and run records show to people.
 */
describe('validation messages', () => {
  it('a config value that is not a number says what was expected', () => {
    let problems: string[] = [];
    try {
      parseConfig({ PIPELINE_ENGINE: 'local', COIN_LIMIT: 'abc' });
    } catch (e) {
      problems = (e as ConfigError).problems;
    }
    expect(problems).toEqual([
      expect.stringMatching(/^COIN_LIMIT: Invalid input: expected number, received NaN/),
    ]);
  });

  it('an event field out of range says how', () => {
    const checked = RunEventSchema.safeParse({ recordCount: -1 });
    const messages = checked.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toContain('recordCount: Too small: expected number to be >=0');
    expect(messages).toContain('runId: Invalid input: expected string, received undefined');
  });
});
