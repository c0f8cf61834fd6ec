// Frontier evaluation on two single-threaded helper engines (core/eval/lanes.ts) against the engine
// Worker alone, on the bundled pair in Chromium's wasm EP: the same logits, the same per-image
// outcomes, and cancel / supersede as before.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { openPage, type Session } from './setup/chromium';
import { LONG_TEST_MS, MEDIUM_TEST_MS } from '../support/timeouts';
import type { Engines } from './engines';

let s: Session;

beforeAll(async () => {
  s = await openPage(new URL('tests/browser/engines.html', inject('baseUrl')).href);
  await s.page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
});
afterAll(async () => s?.close());

const GRID = [0, 0.5, 1];

describe('the frontier on two engines (bundled pair, wasm)', () => {
  it(
    "a lane Worker's logits (one thread) equal, bit for bit, an engine's in the page (every thread) at α ∈ {0, 0.5, 1}",
    async () => {
      const r = await s.page.evaluate((a) => (globalThis as unknown as { engines: Engines }).engines.laneLogits(a), GRID);
      expect(r.values).toBeGreaterThan(0);
      expect(r.pageThreads).toBeGreaterThan(1);
      expect(r.maxAbsDiff).toBe(0);
      expect(r.identical).toBe(true);
    },
    MEDIUM_TEST_MS,
  );

  it(
    'α ∈ {0, 0.5, 1} on the first 100 images of every set: 2 engines give exactly the 1-engine outcomes, and cancel ends both jobs with nothing after',
    async () => {
      const run = (n: number) =>
        s.page.evaluate(([e, g]) => (globalThis as unknown as { engines: Engines }).engines.firstImages(e, g, 100), [n, GRID] as const);
      const one = await run(1);
      const two = await run(2);
      expect(Object.keys(one.outcomes).length).toBe(GRID.length * 6);
      for (const v of Object.values(one.outcomes)) expect(v).toMatch(/^[01]{100}$/);
      expect([one.engines, two.engines]).toEqual([1, 2]);
      expect(two.outcomes).toEqual(one.outcomes);
      // The model is not trivially right or wrong everywhere: outcomes differ between α.
      expect(new Set(Object.values(one.outcomes)).size).toBeGreaterThan(GRID.length);
      for (const r of [one, two]) {
        expect(r.result).toBe('superseded');
        expect(r.late).toBe(0);
      }
    },
    LONG_TEST_MS,
  );

  it(
    'with 2 engines a newer job supersedes a running one and a cancel stops it: both resolve superseded, nothing arrives after',
    async () => {
      const r = await s.page.evaluate((e) => (globalThis as unknown as { engines: Engines }).engines.supersede(e), 2);
      expect(r).toMatchObject({ first: 'superseded', second: 'superseded', late: 0, engines: 2 });
    },
    MEDIUM_TEST_MS,
  );
});
