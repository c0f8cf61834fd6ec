import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        // Pure modules in Node, in seconds: `npm run test:unit` while working on a change.
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        // The engine on the real onnxruntime-node, the CLI in its own process, the fuzzers: minutes.
        test: {
          name: 'node',
          include: ['tests/node/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/browser/setup/server.ts'],
          testTimeout: 240_000,
          hookTimeout: 120_000,
          // One Chromium at a time: this machine has two cores, SwiftShader uses them all.
          fileParallelism: false,
        },
      },
    ],
  },
});
