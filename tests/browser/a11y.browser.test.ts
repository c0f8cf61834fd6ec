// Accessibility on the bundled pair at each viewport the app is made for (1024×768, 1280×720,
// 1920×1080 and a 390×844 phone): axe-core finds no serious or critical violation in the normal
// view, the presenter view and a lab step (#lab=2); and our own checks (tests/browser/setup/a11y.ts)
// of text contrast, a name for every control and for the chart, every visible control reached by
// Tab, file pickers opened from the keyboard, and the chart's data as a table listing every point.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileChooser } from 'playwright-core';
import { openPage, type Session } from './setup/chromium';
import { appState, withActions } from './setup/page';
import type { AppActions } from '../../src/state/app';
import { axeViolations, contrastFailures, unnamedControls, unreachedByTab, mouseOnlyControls } from './setup/a11y';
import { PAIR_LOAD_MS, SHORT_MS, BUNDLED_FRONTIER_MS, SLOW_TEST_MS } from '../support/timeouts';

let s: Session;

const VIEWPORTS = [
  [1024, 768],
  [1280, 720],
  [1920, 1080],
  [390, 844],
] as const;

beforeAll(async () => {
  s = await openPage(`${inject('baseUrl')}#backend=wasm`);
  // The first page of a fresh Vite server compiles the app on demand: on a loaded 2-core machine, over a minute.
  await s.page.waitForSelector('[data-testid="backend"]', { timeout: PAIR_LOAD_MS });
  await s.page.waitForFunction(() => globalThis.wiseft?.store.getState().pair !== null, undefined, { timeout: PAIR_LOAD_MS });
});
afterAll(async () => s?.close());

describe('accessibility', () => {
  it(
    'at 1024×768, 1280×720, 1920×1080 and a 390×844 phone: contrast ≥ 4.5:1, every control named and reached by Tab',
    async () => {
      // The grid's first pass drawn, then the evaluation stopped: the chart and its table hold still
      // while they are checked (a full frontier of the bundled pair takes minutes on a loaded machine).
      await s.page.waitForFunction(() => Object.keys(globalThis.wiseft!.store.getState().points).length >= 11, undefined, {
        timeout: BUNDLED_FRONTIER_MS,
      });
      await withActions(s.page, (a) => a.cancelEvaluation());
      for (const [width, height] of VIEWPORTS) {
        await s.page.setViewportSize({ width, height });
        await s.page.waitForTimeout(600); // the chart's ResizeObserver
        const where = `${width}×${height}`;
        expect(await contrastFailures(s.page), `contrast at ${where}`).toEqual([]);
        expect(await unnamedControls(s.page), `names at ${where}`).toEqual([]);
        expect(await mouseOnlyControls(s.page), `mouse-only controls at ${where}`).toEqual([]);
        expect(await unreachedByTab(s.page), `Tab at ${where}`).toEqual([]);
      }
      expect(s.errors).toEqual([]);
    },
    SLOW_TEST_MS,
  );

  it('every file picker opens from the keyboard (Enter on its button)', async () => {
    await s.page.setViewportSize({ width: 1280, height: 900 });
    // One listener for the whole test: Playwright intercepts choosers once one is listened for, and
    // a chooser left open blocks the next, so each is answered (a folder picker with an empty folder).
    const choosers: FileChooser[] = [];
    s.page.on('filechooser', (c) => choosers.push(c));
    await s.page.evaluate(() => 0);
    const empty = mkdtempSync(join(tmpdir(), 'wiseft-a11y-'));
    for (const [name, folder] of [
      ['Open pair folder…', true],
      ['Open pair .zip…', false],
      ['Pick images…', false],
      ['Import results…', false],
      ['Your eval sets…', true],
      ['Training folder…', true],
    ] as const) {
      const before = choosers.length;
      await s.page.getByRole('button', { name, exact: true }).focus();
      expect(await s.page.evaluate(() => document.activeElement?.textContent), name).toBe(name);
      await s.page.keyboard.press('Enter');
      await expect.poll(() => choosers.length, { message: `${name}: a file chooser`, timeout: SHORT_MS }).toBe(before + 1);
      await choosers[before]!.setFiles(folder ? empty : []);
    }
    rmSync(empty, { recursive: true, force: true });
  });

  it('the chart is named, and its table lists every point with the numbers the store has', async () => {
    const figure = s.page.getByRole('figure', { name: /Accuracy on the reference distribution against accuracy under shift/ });
    expect(await figure.count()).toBe(1);
    await s.page.locator('.frontier-data summary').click();
    const rows = await s.page.locator('[data-testid="frontier-table"] tbody tr').allTextContents();
    // The chart's points: every α with the reference and every shift set (the mean of shifts) computed.
    const alphas = await appState(s.page, (st) =>
      Object.entries(st.points)
        .filter(([, p]) => st.pair!.sets.every((x) => Object.prototype.hasOwnProperty.call(p, x.id)))
        .map(([a]) => Number(a))
        .sort((a, b) => a - b),
    );
    expect(alphas.length).toBeGreaterThanOrEqual(2);
    expect(rows.map((r) => r.slice(0, 4))).toEqual(alphas.map((a) => a.toFixed(2)));
    const ref0 = await appState(s.page, (st) => {
      const p = st.points['0']!.reference!;
      return `${((100 * p.correct) / p.n).toFixed(1)}%`;
    });
    expect(rows[0]).toContain(ref0);
  });

  it(
    'axe-core finds no serious or critical violation at each viewport, in the normal view, the presenter view and lab step 2',
    async () => {
      const views = [
        ['normal view', (a: AppActions) => a.setPresenter(false)],
        ['presenter view', (a: AppActions) => a.setPresenter(true)],
        [
          'lab step 2',
          (a: AppActions) => {
            a.setPresenter(false);
            a.goToStep(2);
          },
        ],
      ] as const;
      const found: string[] = [];
      for (const [view, enter] of views) {
        await withActions(s.page, enter);
        for (const [width, height] of VIEWPORTS) {
          await s.page.setViewportSize({ width, height });
          await s.page.waitForTimeout(600); // the chart's ResizeObserver
          for (const v of await axeViolations(s.page))
            found.push(`${view} at ${width}×${height}: ${v.id} (${v.impact}) on ${v.targets.join(', ')}`);
        }
      }
      // All of them listed, so one run says everything there is to fix.
      expect(found).toEqual([]);
      expect(s.errors).toEqual([]);
    },
    SLOW_TEST_MS,
  );
});
