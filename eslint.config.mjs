// ESLint for the whole tree (`npm run lint`, run by `npm test` before the unit tier): typescript-eslint's
// type-aware rules on every TypeScript file, checked against the root tsconfig.json. A rule is switched
// off here with the reason beside it, or on one line with `// eslint-disable-next-line <rule> -- <reason>`;
// a disable comment without a reason, or one that no longer suppresses anything, is itself an error.
// `npm run lint` caches results by file content in .cache/eslint/ (about 30 s cold, 3 s warm on this tree,
// measured 2026-12-06). The cache does not see types: a change in one file that breaks a rule in another,
// unchanged file shows on a fresh clone (CI) or after `rm -rf .cache/eslint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Requires every eslint-disable comment to say why, after ` -- `, on the same line. */
const disableNeedsReason = {
  meta: {
    type: 'suggestion',
    schema: [],
    messages: { missing: 'say why on the same line: `{{directive}} <rules> -- <reason>`' },
  },
  create(context) {
    return {
      Program() {
        for (const comment of context.sourceCode.getAllComments()) {
          const firstLine = comment.value.split('\n')[0] ?? '';
          const directive = /^\s*(eslint-disable(?:-next-line|-line)?)\b/.exec(firstLine);
          if (directive && !/\s--\s*\S/.test(firstLine)) {
            context.report({ loc: comment.loc, messageId: 'missing', data: { directive: directive[1] } });
          }
        }
      },
    };
  },
};

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/',
      '**/dist/',
      '**/coverage/',
      '.cache/',
      'artifacts/',
      'libs/contracts/src/schemas/generated/',
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { tributary: { rules: { 'disable-needs-reason': disableNeedsReason } } },
    rules: { 'tributary/disable-needs-reason': 'error' },
  },
  js.configs.recommended,
  {
    rules: {
      // A variable a closure reads before its one assignment (a self-referencing compiled check) stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // The code rejects control characters in ids, reasons and answers, and strips terminal escapes, on
      // purpose: every control character in one of its regular expressions is deliberate.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // A switch over a union lists every member, even when a default clause follows, so a new event type,
      // role or schema node is a lint error at every switch that does not name it.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false }],
      // `typeof import('./module')` stays allowed: specs type a module they load again after jest.resetModules().
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      // A leading underscore marks a value kept on purpose: a parameter a signature needs, or a property
      // taken out of a rest spread.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // TypeORM's query() and JSON.parse return `any`, and the code types their rows at the call (a cast or
      // an annotated variable) rather than through a typed query helper, which does not exist yet.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Async functions without an await implement promise-returning interfaces (Nest lifecycle hooks,
      // kafkajs handlers, test doubles); the keyword keeps a throw a rejection, as callers expect.
      '@typescript-eslint/require-await': 'off',
      // kafkajs types the callbacks of its eachBatch payload as methods, and the code destructures them (and
      // Object.prototype's helpers, called with .call) on purpose: none of them reads `this`.
      '@typescript-eslint/unbound-method': 'off',
      // String() of an unknown JSON value (a schema attribute, a header) is the intended text for a message.
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/test/**/*.ts', 'libs/testing/**/*.ts'],
    rules: {
      // Tests read untyped JSON from HTTP answers and Kafka records and check it with expect().
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
      },
    },
  },
  {
    files: ['services/ledger-api/dashboard/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        Node: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        fetch: 'readonly',
        sessionStorage: 'readonly',
        setInterval: 'readonly',
      },
    },
  },
);
