// Flat config: typescript-eslint with type information; workflows/ may not import I/O (the bundle boundary).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
