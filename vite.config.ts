import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation gives wasm its threads (SharedArrayBuffer). `credentialless` rather than
// `require-corp`, so that pairs fetched from other origins by URL still load (CORS permitting).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'credentialless',
};

// The Content-Security-Policy (README, "Privacy and the Content-Security-Policy", the same table;
// public/_headers and public/.htaccess carry it for static hosts; tests/unit/csp.test.ts checks
// that all four agree). Sent as a header by `npm run dev` and `npm run preview`: a <meta> policy
// governs the page only, not the module Worker that makes every pair request, and a Worker's
// policy is the one on its script's response. Scripts and workers only from the app's origin;
// wasm compilation for onnxruntime; eval for protobufjs, which compiles its ONNX decoders with
// new Function in the Worker (measured: without 'unsafe-eval' no model loads, EvalError; one
// policy for all paths because static hosts merge per-path headers unreliably); images from
// data:/blob: URLs (upload thumbnails); fetches to the app's origin or an https pair URL.
export const CSP_DIRECTIVES: ReadonlyArray<readonly [string, string]> = [
  ['default-src', "'self'"],
  ['script-src', "'self' 'wasm-unsafe-eval' 'unsafe-eval'"],
  ['worker-src', "'self' blob:"],
  ['style-src', "'self' 'unsafe-inline'"],
  ['img-src', "'self' data: blob:"],
  ['connect-src', "'self' https:"],
  ['object-src', "'none'"],
  ['base-uri', "'self'"],
  ['form-action', "'none'"],
  ['frame-ancestors', "'none'"],
];

export const CSP = CSP_DIRECTIVES.map(([d, v]) => `${d} ${v}`).join('; ');

// A <meta> policy, for hosts that send no headers: browsers ignore frame-ancestors there (and
// say so in the console), and it covers the page, not the Worker.
export const META_CSP = CSP_DIRECTIVES.filter(([d]) => d !== 'frame-ancestors')
  .map(([d, v]) => `${d} ${v}`)
  .join('; ');

// The dev server injects an inline module script (React Fast Refresh's preamble).
export const DEV_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'");

/** Every response's security headers, besides the CSP. */
export const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  // Pair requests carry no Referer: the pair's host does not learn the app's URL (or its ?pair=).
  'Referrer-Policy': 'no-referrer',
};

function contentSecurityPolicy(): Plugin {
  return {
    name: 'wiseft-csp',
    apply: 'build',
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: META_CSP }, injectTo: 'head-prepend' },
    ],
  };
}

export default defineConfig({
  // Relative asset URLs: dist/ works from any static host, under any sub-path (GitHub Pages).
  base: './',
  plugins: [react(), contentSecurityPolicy()],
  server: {
    host: '127.0.0.1',
    headers: { ...isolation, ...SECURITY_HEADERS, 'Content-Security-Policy': DEV_CSP },
    // The Python virtual environments and build outputs hold hundreds of thousands of files.
    watch: { ignored: ['**/.venv*/**', '**/tools/**', '**/bench/.out/**', '**/tests/.artifacts/**', '**/dist/**'] },
  },
  preview: { host: '127.0.0.1', headers: { ...isolation, ...SECURITY_HEADERS, 'Content-Security-Policy': CSP } },
  worker: { format: 'es' },
  optimizeDeps: {
    // onnxruntime-web locates its wasm relative to its own module: pre-bundling would move it.
    exclude: ['onnxruntime-web'],
    // The Worker's imports are not reachable from index.html by the scanner; discovered at run
    // time, they make the dev server re-optimise and reload the page mid-session.
    entries: ['index.html', 'src/worker/explorer.worker.ts', 'src/worker/evalLane.worker.ts', 'tests/browser/*.html', 'bench/*.html'],
    include: ['comlink', 'idb-keyval', 'zod', 'fast-png', 'fflate', 'hash-wasm', 'protobufjs/light.js', '@huggingface/tokenizers'],
  },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
});
