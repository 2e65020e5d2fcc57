// ESLint's flat configuration (`npm run lint` runs it with --max-warnings 0).
// Layout is Prettier's job (see .prettierrc); these rules catch mistakes, not style.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

export default defineConfig(
  { ignores: ['out/', 'dist/', 'release/', 'test-output/', 'bench-output/', 'node_modules/'] },
  js.configs.recommended,
  ts.configs.recommended,
  svelte.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A leading underscore says "unused on purpose" (a parameter a signature requires, a skipped tuple slot).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Type-only imports stay visibly type-only (verbatimModuleSyntax erases nothing else).
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // The page runs in a browser; its TypeScript in .svelte files is parsed by typescript-eslint.
    files: ['renderer/**/*.svelte', 'renderer/**/*.svelte.ts', 'renderer/src/**/*.ts'],
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'], svelteFeatures: { experimentalGenerics: true } },
    },
    rules: {
      // `placeholder={'a\nb'}` is how a line break gets into an attribute; a plain attribute cannot hold the escape.
      'svelte/no-useless-mustaches': ['error', { ignoreStringEscape: true }],
    },
  },
);
