import base from './jest.config.js';

/**
 * The corpus suite: tests/corpus/ only, against the real CoinGecko responses (where they are looked
 * for: tests/support/corpus.ts; a missing corpus fails, never skips).
 *   node --experimental-vm-modules node_modules/jest/bin/jest.js --config jest.corpus.config.js
 * @type {import('jest').Config}
 */
export default {
  ...base,
  roots: ['<rootDir>/tests/corpus'],
  testPathIgnorePatterns: ['/node_modules/'],
};
