// The project's ESLint rules. They live in this workspace package, not at the root, because
// typescript-eslint parses with the TypeScript compiler API and accepts only typescript < 6.1, while
// the project builds with typescript 7 (the native compiler, which has no such API). This package
// depends on typescript ~6.0 of its own, so npm installs it, and typescript-eslint with it, under
// tools/lint/node_modules: the imports below resolve there, and the parser never sees typescript 7.
// The root eslint.config.js only re-exports this file.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export default tseslint.config(
  { ignores: ['dist/', 'lib/', 'build/', 'coverage/', 'demo-output/', 'node_modules/', 'tools/lint/node_modules/'] },
  js.configs.recommended,
  // With type information: the async code is the heart of this action, and a promise nobody awaits
  // (no-floating-promises, no-misused-promises) is a deadline that is never enforced.
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.check.json'], tsconfigRootDir: root }
    },
    rules: {
      // `_name` marks a parameter kept for its position (tsc's noUnusedParameters already allows it).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Type-only imports stay type-only in the output (verbatimModuleSyntax is on).
      // `typeof import('…')` types a module loaded with await import() after jest mocks it.
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      // `list[0]!` is written on purpose where the code knows the index exists: it documents that
      // knowledge, and stays right if noUncheckedIndexedAccess is ever turned on.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off'
    }
  },
  {
    // Tests read fixtures and fake answers with JSON.parse (any) and give fakes async signatures
    // they do not need: the unsafe-any and require-await rules guard src/, not the test doubles.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
      // expect(fake.method) and jest.spyOn(obj, 'method') name methods without calling them.
      '@typescript-eslint/unbound-method': 'off',
      // Fakes echo what they were sent, whatever its type, into messages and URLs.
      '@typescript-eslint/no-base-to-string': 'off'
    }
  },
  {
    // Plain JavaScript (configs, scripts/*.mjs) is outside tsconfig: lint it without type information.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly' }
    }
  }
)
