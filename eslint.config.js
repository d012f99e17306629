// Lint: typescript-eslint's type-aware recommended rules, plus the habits STYLE.md asks for: no
// floating promises, no import cycles, domain/ pure, grpc/ never reaching into db/, and only a
// service's config.ts reading the environment.
import js from '@eslint/js'
import importX from 'eslint-plugin-import-x'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: [
      'gen/src/**',
      'gen/es/**',
      'services/*/dist/**',
      'services/sdk/.build/**',
      'services/edge/web/dist/**',
      'node_modules/**',
      '**/node_modules/**',
      '.stack/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      // Parts are plain objects of closures (no `this`), passed around as `db.ping`, `relay.stop`.
      '@typescript-eslint/unbound-method': 'off',
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/dist/**'], message: 'import sources, there is no build step' }] }],
    },
  },
  {
    // Domain code stays pure: no transport, storage or broker imports.
    files: ['services/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@grpc/*',
                'kysely',
                'pg',
                'kafkajs',
                'bullmq',
                'iovalkey',
                '@brewmesh/runtime/grpc/*',
                '@brewmesh/runtime/db/*',
                '@brewmesh/runtime/kafka/*',
              ],
              message: 'domain/ is pure: pass an adapter through ports.ts instead',
            },
            {
              group: ['@brewmesh/gen/*'],
              allowTypeImports: true,
              message: "domain/ may name the contract's message types (import type) but not load generated code",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', 'eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // No import cycles inside a package (a cycle means two modules are one concept, or a layer is upside down).
    files: ['services/*/src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts'] })],
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // The gRPC adapters call the domain; they never query the database themselves.
    files: ['services/*/src/grpc/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../db/*', '**/db/**'], message: 'grpc/ calls the domain, which reaches storage through its ports' }] },
      ],
    },
  },
  {
    // Configuration is read once, typed and validated: only config.ts (and the tracing preload,
    // which runs before any) reads process.env.
    files: ['services/*/src/**/*.ts'],
    ignores: ['services/*/src/config.ts', 'services/runtime/src/telemetry/**', 'services/testkit/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read configuration in config.ts' }],
    },
  },
)
