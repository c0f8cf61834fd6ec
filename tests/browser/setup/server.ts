// Serves the repository with Vite on 127.0.0.1 (WebGPU needs a secure context; loopback is one)
// for every browser test file.
import { createServer, type ViteDevServer } from 'vite';
import type { TestProject } from 'vitest/node';

let server: ViteDevServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = await createServer({
    configFile: 'vite.config.ts',
    // Pre-bundled dependencies in this checkout's own folder, not node_modules/.vite: checkouts that
    // share one node_modules (git worktrees with a linked node_modules) and differ in their Vite
    // config each re-optimise that folder when their server starts, replacing the files a running
    // page of another checkout is importing (it reloads or its Worker's import fails mid-test).
    cacheDir: 'tests/.artifacts/vite-deps',
    server: { port: 0, host: '127.0.0.1', strictPort: false, watch: null },
    logLevel: (process.env.WISEFT_VITE_LOG as 'info' | undefined) ?? 'warn',
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('vite did not start');
  project.provide('baseUrl', `http://127.0.0.1:${address.port}/`);
}

export async function teardown(): Promise<void> {
  await server?.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}
