// Flat config: typescript-eslint with type information; workflows/ may not import I/O (the bundle boundary).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/** The folders below activities/, the worker, the HTTP server and the CLI: domain code and boundaries. */
const LOWER = [
  './src/errors',
  './src/metrics',
  './src/config',
  './src/net',
  './src/contacts',
  './src/unpod',
  './src/temporal',
  './src/schedules',
  './src/campaign',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'bin/**', 'test/histories/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself awaits.
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Dependencies point one way (README, "Code map"): no import cycle, and no lower layer importing a higher one.
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: import.meta.dirname,
          zones: [
            {
              target: LOWER,
              from: ['./activities', './src/worker', './src/http', './src/cli', './src/simulator'],
              message: 'a lower layer imports a higher one (README, "Code map")',
            },
            {
              target: './src/errors',
              from: ['./src', './activities', './workflows'],
              except: ['./errors'],
              message: 'src/errors/ is the bottom of src/: it imports nothing of the project',
            },
            {
              target: './activities',
              from: ['./src/worker', './src/http', './src/cli', './src/simulator'],
              message: 'activities/ import workflows/ and the lower src/ folders only (README, "Code map")',
            },
            {
              target: ['./src/worker', './src/simulator'],
              from: ['./src/http', './src/cli'],
              message: 'a lower layer imports a higher one (README, "Code map")',
            },
            {
              target: './src/http',
              from: ['./src/cli', './src/worker'],
              message: 'the HTTP server does not import the CLI or the worker (README, "Code map")',
            },
          ],
        },
      ],
    },
  },
  {
    // The workflow bundle boundary: deterministic code only. Types may be imported from anywhere.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*'],
              message: 'workflows/ are deterministic: no Node built-ins',
              allowTypeImports: false,
            },
            {
              group: ['undici', 'undici/*', 'csv-parse', 'csv-parse/*', 'csv-stringify', 'fastify', 'pino'],
              message: 'no I/O libraries in workflows/',
            },
            {
              group: ['../activities', '../activities/*'],
              message: 'import activities as types only (proxyActivities<typeof ...>)',
              allowTypeImports: true,
            },
            {
              group: ['../src/*', '../src/**'],
              message: 'src/ does I/O: import its types only',
              allowTypeImports: true,
            },
          ],
          paths: ['fs', 'path', 'http', 'https', 'net', 'crypto', 'child_process', 'os'].map((name) => ({
            name,
            message: 'workflows/ are deterministic: no Node built-ins',
          })),
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
