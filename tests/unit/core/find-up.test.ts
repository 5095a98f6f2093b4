import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findUp } from '../../../functions/src/core/find-up.js';
import { tempDir } from '../../support/twin-harness.js';

describe('findUp', () => {
  it('finds a data folder from a source file, a bundle or a chunk of one, and nothing elsewhere', () => {
    const root = tempDir('cmp-findup-');
    mkdirSync(join(root, 'sql', 'load'), { recursive: true });
    writeFileSync(join(root, 'sql', 'load', 'merge_run.sql'), '');
    for (const from of ['functions/src/sql', 'dist/cli/chunks', 'dist/cli', '.']) {
      mkdirSync(join(root, from), { recursive: true });
      expect(findUp(join(root, from), 'sql', 'load')).toBe(join(root, 'sql'));
    }
    expect(findUp(join(root, 'dist'), 'sql', 'no-such-marker')).toBeUndefined();
  });
});
