import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// Browser code (ui/, state/, worker/) never imports these. One `no-restricted-imports` per file
// applies (a later block replaces an earlier one's options), so each block lists all of its patterns.
const NODE_ONLY = {
  group: ['node:*', 'onnxruntime-node', '**/ort-node', '**/node/*'],
  message: 'Browser code: Node-only modules (src/node/, core/runtime/ort-node.ts) are for cli/, bench/ and tests/.',
};

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
    // The layering rule from docs/STYLE.md: ui never reaches into core or the heavy dependencies.
    files: ['src/ui/**/*.{ts,tsx}', 'src/state/**/*.ts', 'src/main.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            // Pure statistics, the results format, the set-id helpers (prototype-free maps), the moved
            // report's table and the per-layer presets (both shared with the CLI) are the value imports
            // allowed: no engine in the UI.
            {
              regex: '(^|/)core/(?!eval/(stats|results|ids)$|moved/table$|blend/layerPresets$)',
              message: 'ui/ and state/ talk to the engine through worker/, not core/ (type imports are fine).',
              allowTypeImports: true,
            },
            { group: ['onnxruntime-web', 'onnxruntime-web/*', 'onnxruntime-node'], message: 'Only core/runtime touches onnxruntime.' },
            NODE_ONLY,
          ],
        },
      ],
    },
  },
  {
    // docs/STYLE.md, "Layers you can name": core/ runs in the page, the Worker and Node, so it
    // imports no framework and no runtime-specific module (tsconfig.core.json checks the types).
    // The Node door runtime/ort-node.ts is the one file here that may import onnxruntime-node.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/runtime/ort-node.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'core/ runs in the browser too: Node modules belong in src/node/ or cli/.' },
            {
              group: ['react', 'react/*', 'react-dom', 'react-dom/*', 'zustand', 'zustand/*', 'recharts'],
              message: 'core/ is framework-free: UI and state live in src/ui/ and src/state/.',
            },
            {
              group: ['onnxruntime-node', '**/ort-node', '**/node/*'],
              message: 'core/ must not pull in Node-only code (src/node/, runtime/ort-node.ts); the caller passes it in.',
            },
            {
              group: ['**/ui/*', '**/state/*', '**/worker/*'],
              message: 'core/ is the bottom layer: it imports nothing from worker/, state/ or ui/.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'document', message: 'core/ has no DOM (it runs in the Worker and in Node).' },
        { name: 'window', message: 'core/ has no window (it runs in the Worker and in Node); use globalThis.' },
        { name: 'self', message: 'Node has no self; use globalThis.' },
        { name: 'process', message: 'core/ runs in the browser too: pass settings in rather than reading process.' },
        { name: 'Buffer', message: 'core/ runs in the browser too: use Uint8Array.' },
        { name: 'require', message: 'core/ is ES modules only.' },
        { name: '__dirname', message: 'core/ runs in the browser too.' },
        { name: '__filename', message: 'core/ runs in the browser too.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'globalThis', property: 'document', message: 'core/ has no DOM (it runs in the Worker and in Node).' },
        { object: 'globalThis', property: 'window', message: 'core/ has no window (it runs in the Worker and in Node).' },
        { object: 'globalThis', property: 'process', message: 'core/ runs in the browser too.' },
        { object: 'globalThis', property: 'Buffer', message: 'core/ runs in the browser too: use Uint8Array.' },
      ],
    },
  },
  {
    // The Worker never loads Node-only code either (ui/ and state/: the layering block above).
    files: ['src/worker/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NODE_ONLY] }] },
  },
);
