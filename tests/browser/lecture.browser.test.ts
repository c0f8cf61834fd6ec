// Two things a lecture leans on: the loading bar counts every file and the runtime's own download
// (never more loaded than its total), and a Cancel holds while α moves until Evaluate is pressed.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openPage, type Session } from './setup/chromium';
import { appState, withActions, type PageHandle } from './setup/page';
import { parseManifest, selectMember } from '../../src/core/bundle/manifest';
import { PAIR_LOAD_MS, SHORT_MS, UI_UPDATE_MS, LONG_TEST_MS } from '../support/timeouts';

const PAIR_DIR = 'public/pairs/shapes';
let s: Session;
const wasmRequests: string[] = [];

interface Seen {
  file: string;
  bundleLoaded: number;
  bundleTotal: number | null;
}

/**
 * Bytes of the files loading the bundled pair with its default member reads: those the first
 * screen needs, and the eval images' sprite sheets, read after it.
 */
function filesRead(): { firstScreen: number; evalImages: number } {
  const m = parseManifest(readFileSync(join(PAIR_DIR, 'manifest.json')));
  const member = selectMember(m, null);
  const paths = [
    'manifest.json',
    m.models.zeroShot.path,
    member.model.path,
    ...[member.sweeps?.weight, member.sweeps?.output].flatMap((f) => (f ? [f.path] : [])),
    ...(m.text ? [m.text.model.path, m.text.tokenizer] : []),
  ];
  const size = (paths: string[]) => paths.reduce((n, p) => n + statSync(join(PAIR_DIR, p)).size, 0);
  return { firstScreen: size(paths), evalImages: size((m.eval?.sets ?? []).map((x) => x.sprite.path)) };
}

beforeAll(async () => {
  s = await openPage(`${inject('baseUrl')}#backend=wasm`, {
    // Every loading update from the first: the store is watched the moment main.tsx publishes it.
    beforeGoto: async (context) => {
      context.on('request', (r) => {
        // Vite's dev server answers `?import&url` with a module that holds the URL, not the binary.
        if (/ort-wasm[^/]*\.wasm/.test(r.url()) && !r.url().includes('?import')) wasmRequests.push(r.url());
      });
      await context.addInitScript(() => {
        const seen: Seen[] = [];
        let handle: PageHandle | undefined;
        Object.defineProperty(globalThis, '__loads', { value: seen });
        Object.defineProperty(globalThis, 'wiseft', {
          configurable: true,
          get: () => handle,
          set(v: PageHandle) {
            handle = v;
            v.store.subscribe((st) => {
              const p = st.loading?.progress;
              if (p) seen.push({ file: p.file, bundleLoaded: p.bundleLoaded, bundleTotal: p.bundleTotal });
              // The eval images, streamed after the first screen, on the bar's own line.
              const q = st.evalImagesLoading?.progress;
              if (q) seen.push({ file: `images: ${q.file}`, bundleLoaded: q.bundleLoaded, bundleTotal: q.bundleTotal });
            });
          },
        });
      });
    },
  });
});
afterAll(async () => s?.close());

describe('a lecture on the bundled pair', () => {
  it(
    'the loading bar totals every file read (the eval images after the first screen), shows the runtime download as a step, and never shows more loaded than its total',
    async () => {
      await s.page.waitForFunction(() => globalThis.wiseft?.store.getState().pair != null, undefined, { timeout: PAIR_LOAD_MS });
      // The first screen came without the eval images; they follow, on the bar, until the last byte.
      await s.page.waitForFunction(
        () => (globalThis as unknown as { __loads: Seen[] }).__loads.some((p) => p.file.startsWith('images: ')),
        undefined,
        {
          timeout: PAIR_LOAD_MS,
        },
      );
      await s.page.waitForFunction(() => globalThis.wiseft!.store.getState().evalImagesLoading === null, undefined, {
        timeout: PAIR_LOAD_MS,
      });
      const seen = await s.page.evaluate(() => (globalThis as unknown as { __loads: Seen[] }).__loads);
      for (const p of seen) if (p.bundleTotal !== null) expect(p.bundleLoaded, p.file).toBeLessThanOrEqual(p.bundleTotal);
      const runtime = seen.filter((p) => p.file.startsWith('the runtime'));
      expect(runtime.length).toBeGreaterThan(0);
      // onnxruntime took the bytes the step downloaded: it fetched no copy of its own, and only the
      // build the wasm backend runs (no asyncify, which only WebGPU needs).
      expect(wasmRequests, wasmRequests.join(' ')).toHaveLength(1);
      expect(wasmRequests[0]).toMatch(/ort-wasm-simd-threaded\.wasm/);
      const want = filesRead();
      const bundle = seen.filter((p) => !p.file.startsWith('the runtime') && !p.file.startsWith('images: '));
      expect(bundle.at(-1)).toMatchObject({ bundleLoaded: want.firstScreen, bundleTotal: want.firstScreen });
      const images = seen.filter((p) => p.file.startsWith('images: '));
      expect(images.at(-1)).toMatchObject({ bundleLoaded: want.evalImages, bundleTotal: want.evalImages });
      expect(s.errors).toEqual([]);
    },
    LONG_TEST_MS,
  );

  it(
    'after Cancel, moving α starts no evaluation until Evaluate; the count of the frontier does not go back',
    async () => {
      await s.page.waitForFunction(() => globalThis.wiseft!.store.getState().evaluating, undefined, { timeout: UI_UPDATE_MS });
      const count = async () => {
        const text = (await s.page.textContent('[data-testid="eval-count"]')) ?? '';
        const m = /([\d,]+) \/ ([\d,]+) images/.exec(text);
        return m ? { done: Number(m[1]!.replace(/,/g, '')), total: Number(m[2]!.replace(/,/g, '')) } : null;
      };
      const before = await count();
      expect(before).not.toBeNull();
      await s.page.getByRole('button', { name: 'Cancel' }).click();
      await s.page.waitForFunction(() => !globalThis.wiseft!.store.getState().evaluating, undefined, { timeout: SHORT_MS });
      await withActions(s.page, (a) => a.setAlpha(0.37));
      // Long past the slider's 120 ms wait, which started a job before.
      await s.page.waitForTimeout(2000);
      expect(await appState(s.page, (st) => ({ evaluating: st.evaluating, paused: st.evalPaused, at: st.points['0.37'] ?? null }))).toEqual(
        {
          evaluating: false,
          paused: true,
          at: null,
        },
      );
      await s.page.getByRole('button', { name: 'Evaluate' }).click();
      await s.page.waitForFunction(() => globalThis.wiseft!.store.getState().points['0.37'] !== undefined, undefined, {
        timeout: UI_UPDATE_MS,
      });
      const after = await count();
      if (after) {
        expect(after.total).toBe(before!.total);
        expect(after.done).toBeGreaterThanOrEqual(before!.done);
      }
      expect(s.errors).toEqual([]);
    },
    LONG_TEST_MS,
  );
});
