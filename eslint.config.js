// One lint setup for the whole repository; formatting is prettier's job (`npm run lint` runs both).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'coverage/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // `import { z }` bundles all of zod with its locales into each function (458 KiB vs 103 KiB),
      // which the cold start pays for (README, Performance).
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod'] > ImportSpecifier[imported.name='z']",
          message: "Use `import * as z from 'zod'`.",
        },
      ],
    },
  },
  {
    // The functions validate with zod/mini (functions/src/core/zod-messages.ts says why): classic
    // zod costs every cold start ~30 ms to import (README, Performance).
    files: ['functions/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'zod',
              message:
                "Use `import * as z from 'zod/mini'` and import core/zod-messages.js in functions/src.",
            },
          ],
        },
      ],
    },
  },
  {
    // The local dashboard's page scripts run in the browser, with ECharts loaded as a global.
    files: ['twin/src/dashboard/web/**/*.js'],
    languageOptions: {
      globals: {
        document: 'readonly',
        location: 'readonly',
        fetch: 'readonly',
        URLSearchParams: 'readonly',
        addEventListener: 'readonly',
        setInterval: 'readonly',
        echarts: 'readonly',
      },
    },
  },
);
