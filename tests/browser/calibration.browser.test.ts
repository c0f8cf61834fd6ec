// Calibration in the app on the bundled pair (wasm): the panel, opened by the link, shows ECE and
// NLL per set at the endpoints, and every number equals one computed here, independently, from the
// same images' logits run afresh through the engine's debug hook (a float64 softmax per row, a loop
// over 15 bin edges); the temperature toggle changes NLL and not accuracy, and its NLL is the one
// of the logits divided by the T shown; the open panel passes axe-core and the contrast check.
// Screenshot: docs/screenshots/calibration.png.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openPage, type Session } from './setup/chromium';
import { appState, withActions, withDebug } from './setup/page';
import { axeViolations, contrastFailures } from './setup/a11y';
import { APP_START_MS, PAIR_LOAD_MS, SLOW_TEST_MS, BUNDLED_FRONTIER_MS, UI_UPDATE_MS } from '../support/timeouts';

const SHOTS = 'docs/screenshots';
let s: Session;

interface Logits {
  logits: number[];
  labels: number[];
  classes: number;
  subset: number[] | null;
}

/** Top-label ECE (15 equal-width bins), mean NLL and the count right, from logits divided by T, written plainly. */
function independent(l: Logits, T = 1): { ece: number; nll: number; correct: number; n: number } {
  const n = l.labels.length;
  const cls = l.subset ?? Array.from({ length: l.classes }, (_, k) => k);
  const conf: number[] = [];
  const right: boolean[] = [];
  let nll = 0;
  for (let i = 0; i < n; i++) {
    const z = cls.map((k) => l.logits[i * l.classes + k]! / T);
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, b) => a + b, 0);
    let arg = 0;
    for (let k = 1; k < z.length; k++) if (z[k]! > z[arg]!) arg = k;
    conf.push(e[arg]! / sum);
    right.push(cls[arg] === l.labels[i]);
    nll -= Math.log(e[cls.indexOf(l.labels[i]!)]! / sum);
  }
  let ece = 0;
  for (let b = 0; b < 15; b++) {
    const idx = conf.map((_, i) => i).filter((i) => conf[i]! > b / 15 && conf[i]! <= (b + 1) / 15);
    if (idx.length === 0) continue;
    const acc = idx.filter((i) => right[i]).length / idx.length;
    const mc = idx.reduce((a, i) => a + conf[i]!, 0) / idx.length;
    ece += (idx.length / n) * Math.abs(acc - mc);
  }
  return { ece, nll: nll / n, correct: right.filter(Boolean).length, n };
}

async function logitsOf(alpha: number, setId: string): Promise<Logits> {
  return withDebug(
    s.page,
    async (d, a) => {
      const r = await d.evalLogits(a.alpha, a.setId);
      return {
        logits: Array.from(r.logits),
        labels: Array.from(r.labels),
        classes: r.classes,
        subset: r.classSubset ? Array.from(r.classSubset) : null,
      };
    },
    { alpha, setId },
  );
}

/** The table's cells of one set and space, as shown. */
async function shown(setId: string, space: 'weight' | 'output'): Promise<{ n: number; ece: number; nll: number }> {
  const text = (what: string) => s.page.textContent(`[data-testid="cal-${space}-${setId}-${what}"]`);
  return {
    n: Number((await text('n'))!.replace(/,/g, '')),
    ece: Number((await text('ece'))!.replace('%', '')) / 100,
    nll: Number(await text('nll')),
  };
}

/** Waits until the store's report is at α with every set on every image in weight space (and with T when asked). */
async function reportAt(alpha: number, temperature: boolean): Promise<void> {
  await s.page.waitForFunction(
    (a) => {
      const st = globalThis.wiseft!.store.getState();
      const r = st.calibration;
      const point = r?.weight.points[String(a.alpha)];
      return (
        r !== null &&
        r.alpha === a.alpha &&
        r.temperature === a.temperature &&
        st.pair!.sets.every((set) => point?.[set.id]?.n === set.count)
      );
    },
    { alpha, temperature },
    { timeout: BUNDLED_FRONTIER_MS, polling: 500 },
  );
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await openPage(`${inject('baseUrl')}#backend=wasm&alpha=0.00&calib=1`);
  await s.page.waitForSelector('[data-testid="backend"]', { timeout: APP_START_MS });
  await s.page.waitForFunction(() => globalThis.wiseft?.store.getState().pair !== null, undefined, { timeout: PAIR_LOAD_MS, polling: 250 });
});
afterAll(async () => s?.close());

describe('calibration in the app', () => {
  it(
    'shows ECE and NLL at the endpoints equal to an independent computation from the same logits; temperature changes NLL, not accuracy',
    async () => {
      await s.page.waitForSelector('[data-testid="calibration-panel"]', { timeout: UI_UPDATE_MS });
      const sets = await appState(s.page, (st) => st.pair!.sets.map((x) => x.id));
      const reference = await appState(s.page, (st) => st.pair!.sets.find((x) => x.role === 'reference')!.id);
      const checked = [reference, sets.find((x) => x !== reference)!];
      for (const alpha of [0, 1]) {
        await withActions(s.page, (a, x) => a.setAlpha(x), alpha);
        await reportAt(alpha, false);
        await s.page.waitForFunction(
          (a) => document.querySelector('.calibration-table caption')?.textContent?.includes(`α = ${a}`),
          alpha.toFixed(2),
          {
            timeout: UI_UPDATE_MS,
          },
        );
        const report = await appState(s.page, (st) => st.calibration!);
        for (const id of checked) {
          const want = independent(await logitsOf(alpha, id));
          const got = report.weight.points[String(alpha)]![id]!;
          expect(got.n).toBe(want.n);
          expect(got.correct).toBe(want.correct);
          expect(Math.abs(got.ece - want.ece), `${id} ECE at α = ${alpha}`).toBeLessThan(1e-6);
          expect(Math.abs(got.nll - want.nll), `${id} NLL at α = ${alpha}`).toBeLessThan(1e-6);
          // On screen: ECE to 0.1%, NLL to 0.001, n in full.
          const cell = await shown(id, 'weight');
          expect(cell.n).toBe(want.n);
          expect(Math.abs(cell.ece - want.ece)).toBeLessThanOrEqual(0.0005 + 1e-9);
          expect(Math.abs(cell.nll - want.nll)).toBeLessThanOrEqual(0.0005 + 1e-9);
        }
      }
      // Both endpoints complete: the output-space ensemble at α = 1 is the fine-tuned model itself.
      await s.page.waitForFunction(
        () => Object.keys(globalThis.wiseft!.store.getState().calibration?.output.points ?? {}).length > 0,
        undefined,
        {
          timeout: UI_UPDATE_MS,
          polling: 500,
        },
      );
      const atOne = await appState(s.page, (st) => st.calibration!);
      expect(atOne.output.points['1']![reference]!.nll).toBeCloseTo(atOne.weight.points['1']![reference]!.nll, 6);

      // Temperature scaling, fitted on the reference set at α = 1.
      const before = await Promise.all(checked.map((id) => shown(id, 'weight')));
      const accuracyBefore = await s.page.textContent(`[data-testid="calibration-row"][data-set="${checked[1]}"] td:nth-child(3)`);
      await s.page.check('[data-testid="temperature-on"]');
      await reportAt(1, true);
      await s.page.waitForSelector('[data-testid="temperature-note"]', { timeout: UI_UPDATE_MS });
      expect(await s.page.textContent('[data-testid="temperature-note"]')).toMatch(/fitted on the reference set's n = 1,000 images/);
      const scaled = await appState(s.page, (st) => st.calibration!);
      const T = scaled.weight.temperatures['1']!;
      expect(T.n).toBe(1000);
      expect(T.nll).toBeLessThan(T.nllBefore);
      for (const [i, id] of checked.entries()) {
        const want = independent(await logitsOf(1, id), T.value);
        const got = scaled.weight.points['1']![id]!;
        expect(Math.abs(got.nll - want.nll)).toBeLessThan(1e-6);
        expect(got.correct).toBe(want.correct);
        expect(got.correct).toBe(atOne.weight.points['1']![id]!.correct);
        // NLL on screen changes (by more than its last digit on the set it was fitted on).
        if (id === reference) expect((await shown(id, 'weight')).nll).toBeLessThan(before[i]!.nll);
      }
      await s.page.waitForFunction(() => location.hash.includes('calib=1') && location.hash.includes('temp=1'), undefined, {
        timeout: UI_UPDATE_MS,
      });
      expect(await s.page.textContent(`[data-testid="calibration-row"][data-set="${checked[1]}"] td:nth-child(3)`)).toBe(accuracyBefore);
      expect(await s.page.locator('[data-testid="reliability"] .recharts-bar-rectangle').count()).toBeGreaterThan(0);

      await s.page.setViewportSize({ width: 1280, height: 800 });
      await s.page.waitForTimeout(600); // the charts' ResizeObserver
      // The open panel, charts and table included: no serious axe violation, text at 4.5:1 or more.
      expect(await axeViolations(s.page)).toEqual([]);
      expect(await contrastFailures(s.page)).toEqual([]);
      await s.page.locator('[data-testid="calibration-panel"]').evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await s.page.screenshot({ path: join(SHOTS, 'calibration.png'), timeout: UI_UPDATE_MS });
    },
    SLOW_TEST_MS,
  );
});
