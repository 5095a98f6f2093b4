/**
 * One jest config for every tier. Tests are ESM (the package is "type": "module" because got 14
 * is ESM-only), transformed by swc for speed; type checking is `npm run typecheck`, not jest's job.
 * tests/corpus/ reads the real CoinGecko corpus (../shared, absent on a fresh clone), so the default
 * run skips it; jest.corpus.config.js runs it.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/tests/corpus/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      },
    ],
  },
  testTimeout: 30000,
  globalSetup: '<rootDir>/tests/support/global-setup.js',
};
