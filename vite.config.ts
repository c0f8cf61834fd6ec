import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation gives wasm its threads (SharedArrayBuffer). `credentialless` rather than
// `require-corp`, so that pairs fetched from other origins by URL still load (CORS permitting).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'credentialless',
};

// The Content-Security-Policy of the built app (README, "Privacy"): scripts and workers only from
// the app's own origin, wasm compilation for onnxruntime, images from data:/blob: URLs (upload
// thumbnails), and fetches to the app's origin or to an https pair URL the user typed. Build only:
// the dev server injects inline scripts for hot reloading.
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self' https:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

function contentSecurityPolicy(): Plugin {
  return {
    name: 'wiseft-csp',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP }, injectTo: 'head-prepend' }],
  };
}

export default defineConfig({
  // Relative asset URLs: dist/ works from any static host, under any sub-path (GitHub Pages).
  base: './',
  plugins: [react(), contentSecurityPolicy()],
  server: {
    host: '127.0.0.1',
    headers: isolation,
    // The Python virtual environments and build outputs hold hundreds of thousands of files.
    watch: { ignored: ['**/.venv*/**', '**/tools/**', '**/bench/.out/**', '**/tests/.artifacts/**', '**/dist/**'] },
  },
  preview: { host: '127.0.0.1', headers: isolation },
  worker: { format: 'es' },
  optimizeDeps: {
    // onnxruntime-web locates its wasm relative to its own module: pre-bundling would move it.
    exclude: ['onnxruntime-web'],
    // The Worker's imports are not reachable from index.html by the scanner; discovered at run
    // time, they make the dev server re-optimise and reload the page mid-session.
    entries: ['index.html', 'src/worker/explorer.worker.ts', 'tests/browser/*.html', 'bench/*.html'],
    include: ['comlink', 'idb-keyval', 'zod', 'fast-png', 'fflate', 'protobufjs/light.js', '@huggingface/tokenizers'],
  },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
});
