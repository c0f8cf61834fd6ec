// "What fine-tuning moved" on the bundled pair in Chromium: collapsed until opened, one row per
// weight with every member named, a column sorted (and flipped), a row clicked for its histograms;
// the numbers shown are the engine's report to 3 significant digits. Writes docs/screenshots/moved.png.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openPage, type Session } from './setup/chromium';
import { appState } from './setup/page';
import { PAIR_LOAD_MS, UI_UPDATE_MS, SLOW_TEST_MS } from '../support/timeouts';
import { parseModel, describeTensor, tensorValues } from '../../src/core/onnx/model';

const PAIR = 'public/pairs/shapes';

/** ‖θ − θ₀‖ / ‖θ₀‖ of every fp32 tensor of a member, from the files, in float64: what the page must show. */
function relativeChanges(member: string): Map<string, number> {
  const weights = (path: string) =>
    new Map(
      parseModel(readFileSync(`${PAIR}/${path}`))
        .graph.initializer.filter((t) => describeTensor(t).dtype === 'float32')
        .map((t) => [t.name, tensorValues(t) as Float32Array]),
    );
  const zs = weights('zeroshot.onnx');
  const ft = weights(`members/${member}.onnx`);
  const out = new Map<string, number>();
  for (const [name, a] of zs) {
    let base = 0;
    let delta = 0;
    a.forEach((x, i) => ((base += x * x), (delta += (ft.get(name)![i]! - x) ** 2)));
    if (base > 0) out.set(name, Math.sqrt(delta / base));
  }
  return out;
}

const SHOTS = 'docs/screenshots';
let s: Session;

const rows = () => s.page.locator('[data-testid="moved-row"]');
/** The numbers of one column of the table, in the order shown (column 0 is "#"). */
const column = (k: number) =>
  s.page.$$eval('[data-testid="moved-row"]', (trs, col) => trs.map((tr) => tr.children[col]!.textContent ?? ''), k);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await openPage('about:blank');
  await s.page.setViewportSize({ width: 1280, height: 800 });
});
afterAll(async () => s?.close());

/**
 * The engine reads θ₀ and the loaded member back from its blend buffers (wasm memory, or GPU
 * buffers on WebGPU): the page's ratios equal a float64 computation over the files.
 */
async function expectLoadedMemberExact(): Promise<void> {
  const report = await appState(s.page, (st) => (st.moved.status === 'ready' ? st.moved.report : null));
  const expected = relativeChanges('e2e-seed0');
  expect(expected.size).toBeGreaterThan(15);
  for (const [name, rel] of expected) {
    const row = report!.rows.find((r) => r.name === name)!;
    expect(Math.abs(row.relativeChange[0]! / rel - 1), name).toBeLessThan(1e-9);
  }
}

describe('what fine-tuning moved, on the bundled pair', () => {
  it(
    'opens collapsed, lists every weight, sorts by a member, and shows a tensor histogram per member on a click',
    async () => {
      await s.page.goto(inject('baseUrl'));
      await s.page.waitForFunction(() => !!globalThis.wiseft?.store.getState().pair, undefined, { timeout: PAIR_LOAD_MS });
      const toggle = s.page.locator('[data-testid="moved-toggle"]');
      expect(await toggle.getAttribute('aria-expanded')).toBe('false');
      expect(await rows().count()).toBe(0);
      await toggle.click();
      await s.page.waitForSelector('[data-testid="moved-table"]', { timeout: UI_UPDATE_MS });
      expect(await rows().count()).toBe(21);
      const headers = await s.page.locator('[data-testid="moved-table"] thead th').allTextContents();
      expect(headers.slice(5)).toEqual(['e2e-seed0', 'e2e-seed1', 'linear-seed0', 'cos(Δ e2e-seed0, Δ e2e-seed1)']);
      const caption = await s.page.locator('[data-testid="moved-table"] caption').textContent();
      expect(caption).toContain('e2e-seed0: End-to-end fine-tuning, seed 0; e2e-seed1: End-to-end fine-tuning, seed 1');

      expect(await appState(s.page, (st) => st.runtime?.backend)).toBe('wasm');
      await expectLoadedMemberExact();

      // What is shown is the engine's report, to 3 significant digits.
      const report = await appState(s.page, (st) => (st.moved.status === 'ready' ? st.moved.report : null));
      const head = report!.rows.find((r) => r.name === 'head.weight')!;
      const headCells = await s.page.locator('[data-tensor="head.weight"] td').allTextContents();
      expect(headCells.slice(4)).toEqual([...head.relativeChange.map((x) => x!.toPrecision(3)), head.cosine!.toPrecision(3)]);

      // Sorted by seed 0's relative change: largest first, then flipped.
      await s.page.locator('[data-sort="member-0"]').click();
      const down = (await column(5)).map(Number).filter(Number.isFinite);
      expect(down.length).toBeGreaterThan(15);
      expect(down).toEqual([...down].sort((a, b) => b - a));
      const top = report!.rows.reduce((a, b) => ((b.relativeChange[0] ?? -1) > (a.relativeChange[0] ?? -1) ? b : a));
      expect(await rows().first().getAttribute('data-tensor')).toBe(top.name);
      await s.page.locator('[data-sort="member-0"]').click();
      const up = (await column(5)).map(Number).filter(Number.isFinite);
      expect(up).toEqual([...up].sort((a, b) => a - b));
      await s.page.locator('[data-sort="member-0"]').click();

      // A click on a row: one histogram per member, 41 bins over the member's own range.
      await s.page.locator(`[data-tensor="${top.name}"] th button`).click();
      const histograms = s.page.locator('[data-testid="moved-histogram"] figure');
      await histograms.first().waitFor({ timeout: UI_UPDATE_MS });
      expect(await histograms.count()).toBe(3);
      const captions = await s.page.locator('[data-testid="moved-histogram"] figcaption').allTextContents();
      expect(captions[0]).toContain(`41 bins over ±${top.histograms[0]!.limit.toPrecision(3)}`);
      // The linear classifier leaves the image tower alone.
      expect(captions[2]).toContain('all unchanged');
      expect(await s.page.locator('[data-testid="moved-histogram"] figure:nth-of-type(3) svg').count()).toBe(0);
      expect(await s.page.locator(`[data-tensor="${top.name}"]`).getAttribute('aria-selected')).toBe('true');
      await s.page.evaluate(() => document.querySelector('[data-testid="moved-panel"]')!.scrollIntoView({ block: 'start' }));
      await s.page.screenshot({ path: join(SHOTS, 'moved.png') });
      expect(s.errors).toEqual([]);
    },
    SLOW_TEST_MS,
  );

  it(
    'on WebGPU the weights read back from the GPU give the same ratios as the files',
    async () => {
      await s.page.goto('about:blank');
      await s.page.goto(`${inject('baseUrl')}#backend=webgpu`);
      await s.page.waitForFunction(() => !!globalThis.wiseft?.store.getState().pair, undefined, { timeout: PAIR_LOAD_MS });
      expect(await appState(s.page, (st) => st.runtime?.backend)).toBe('webgpu');
      await s.page.locator('[data-testid="moved-toggle"]').click();
      await s.page.waitForSelector('[data-testid="moved-table"]', { timeout: UI_UPDATE_MS });
      await expectLoadedMemberExact();
    },
    SLOW_TEST_MS,
  );
});
