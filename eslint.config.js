import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'public', '.venv', '.venv-*', 'tools', 'bench/.out', 'tests/.artifacts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The layering rule from STYLE.md: ui never reaches into core or the heavy dependencies.
    files: ['src/ui/**/*.{ts,tsx}', 'src/state/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          // Pure statistics, the results format and the set-id helpers (prototype-free maps) are the
          // value imports allowed: no engine in the UI.
          { regex: '(^|/)core/(?!eval/(stats|results|ids)$)', message: 'ui/ and state/ talk to the engine through worker/, not core/ (type imports are fine).', allowTypeImports: true },
          { group: ['onnxruntime-web', 'onnxruntime-web/*', 'onnxruntime-node'], message: 'Only core/runtime touches onnxruntime.' },
        ],
      }],
    },
  },
);
