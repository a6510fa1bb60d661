// Type-aware linting for the whole repository (run by `npm run lint`).
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Files under `files` may not import from the named top-level folders of src/. */
function layer(files, forbidden) {
  return {
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: forbidden.map((dir) => ({
            group: [`../${dir}/*`, `../../${dir}/*`],
            message: `layering: this folder must not import from src/${dir}/ (imports flow cli → pipeline → graph/writers/state)`,
          })),
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['config/tooling/*.js', 'config/tooling/*.mjs'] },
        tsconfigRootDir: fileURLToPath(new globalThis.URL('../..', import.meta.url)),
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-console': 'error',
    },
  },
  {
    files: ['src/cli/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  // Layering: cli → pipeline → snapshots → writers, state, schema; pipeline → graph. The sandbox is the other side of the wire: it imports
  // nothing of the client's. A file outside a layer's rule may import anything below it.
  layer('src/graph/**', ['pipeline', 'cli', 'sandbox', 'state', 'writers', 'listener']),
  layer('src/{writers,state,schema}/**', ['pipeline', 'cli', 'sandbox', 'graph', 'listener']),
  layer('src/pipeline/**', ['cli', 'sandbox', 'listener']),
  layer('src/snapshots/**', ['pipeline', 'cli', 'sandbox', 'listener', 'graph']),
  layer('src/listener/**', ['pipeline', 'cli', 'sandbox', 'graph', 'writers']),
  {
    files: ['src/sandbox/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*'], message: 'the sandbox shares no code with the client' }] },
      ],
    },
  },
  {
    files: ['src/sandbox/*/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../../*'], message: 'the sandbox shares no code with the client' }] },
      ],
    },
  },
  layer('src/archive/**', [
    'pipeline',
    'cli',
    'sandbox',
    'listener',
    'graph',
    'writers',
    'state',
    'snapshots',
  ]),
  {
    files: ['config/tooling/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
