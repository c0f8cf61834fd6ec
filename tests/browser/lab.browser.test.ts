// The guided lab as an instructor's links open it, on the bundled pair: each step addressed by
// `#lab=N`, parts hidden by `hide=` (unknown ones dropped from the URL), a prediction marked by a
// click on the plot (and by keyboard), the answer kept off the chart and out of the table until
// revealed, then the distance from the mark to it. The numbers the steps say are checked against
// the bundle's recorded sweep, read here from the file. Writes docs/screenshots/lab-mode.png.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { openPage, type Session } from './setup/chromium';
import { appState } from './setup/page';
import { PAIR_LOAD_MS, UI_UPDATE_MS, SLOW_TEST_MS } from '../support/timeouts';

const SHOTS = 'docs/screenshots';
const SWEEP = 'public/pairs/shapes/sweeps/e2e-seed0.weight.jsonl';
const SHIFTS = ['v2', 'sketch', 'rendition', 'adversarial', 'objectnet'];
// Step 5 goes to the α the bundle recommends: read from its manifest, so a rebuilt world moves the test with it.
const REC = (
  JSON.parse(readFileSync('public/pairs/shapes/manifest.json', 'utf8')).models.members[0].recommendedAlpha.alpha as number
).toFixed(2);
let s: Session;

/** The recorded sweep's point at α, in percent, the mean of the shift sets on y (as the chart's default). */
function recorded(alpha: number): { x: number; y: number } {
  const line = readFileSync(SWEEP, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>)
    .find((l) => Math.abs(l.alpha! - alpha) < 1e-9)!;
  return { x: 100 * line['reference:top1']!, y: (100 * SHIFTS.reduce((a, k) => a + line[`${k}:top1`]!, 0)) / SHIFTS.length };
}

async function open(hash: string): Promise<void> {
  await s.page.goto('about:blank');
  await s.page.goto(`${inject('baseUrl')}${hash}`);
  await s.page.waitForFunction(() => !!globalThis.wiseft?.store.getState().pair, undefined, { timeout: PAIR_LOAD_MS });
}

const lead = () => s.page.locator('[data-testid="lab-lead"]').textContent();
const hash = () => s.page.evaluate(() => location.hash);
const count = (sel: string) => s.page.locator(sel).count();
const legend = () => s.page.locator('[data-testid="frontier"] .recharts-legend-item-text').allTextContents();

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await openPage('about:blank');
});
afterAll(async () => s?.close());

describe('guided lab links on the bundled pair', () => {
  it(
    'step 1 from the link, Next to step 2, a click on the plot marks a prediction, Reveal shows the answer and the distance',
    async () => {
      await open('#lab=1&hide=controls,uploads,nosuch');
      const z = recorded(0);
      await s.page.waitForFunction(() => /scores/.test(document.querySelector('[data-testid="lab-lead"]')?.textContent ?? ''), undefined, {
        timeout: UI_UPDATE_MS,
      });
      expect(await lead()).toContain(`scores ${z.x.toFixed(1)}% on it and ${z.y.toFixed(1)}% under shift`);
      expect(await count('.view-controls')).toBe(0);
      expect(await count('.uploads')).toBe(0);
      await s.page.waitForFunction(() => location.hash.includes('lab=1&hide=controls,uploads'));
      expect(await hash()).not.toContain('nosuch');

      await s.page.locator('[data-testid="lab-next"]').click();
      await s.page.waitForSelector('[data-testid="lab"][data-step="2"]');
      await s.page.waitForFunction(() => location.hash.includes('lab=2') && location.hash.includes('alpha=1.00'));
      // The answer is not on the page before the reveal: no fine-tuned point, no table, Reveal disabled.
      expect(await count('[data-testid="accuracy-table"]')).toBe(0);
      expect((await legend()).join(' | ')).not.toMatch(/fine-tuned|WiSE-FT/);
      expect(await s.page.locator('[data-testid="lab-reveal"]').isDisabled()).toBe(true);

      // A click at 75% across and 40% down the plot is a mark at those fractions of the axes' domains.
      const box = (await s.page.locator('[data-testid="lab-target"]').boundingBox())!;
      await s.page.mouse.click(box.x + 0.75 * box.width, box.y + 0.4 * box.height);
      await s.page.waitForSelector('[data-testid="lab-mark"]');
      const domain = await s.page.evaluate(() => {
        const f = document.querySelector('[data-testid="frontier"]')!;
        return { x: f.getAttribute('data-x-domain')!.split(',').map(Number), y: f.getAttribute('data-y-domain')!.split(',').map(Number) };
      });
      const mark = (await appState(s.page, (st) => st.prediction))!;
      expect(mark.x).toBeCloseTo(domain.x[0]! + 0.75 * (domain.x[1]! - domain.x[0]!), 0);
      expect(mark.y).toBeCloseTo(domain.y[1]! - 0.4 * (domain.y[1]! - domain.y[0]!), 0);

      await s.page.locator('[data-testid="lab-reveal"]').click();
      await s.page.waitForSelector('[data-testid="lab-answer"]');
      const f = recorded(1);
      expect(await s.page.locator('[data-testid="lab-answer-text"]').textContent()).toContain(`${f.x.toFixed(1)}% on the reference`);
      const distance = Math.hypot(f.x - mark.x, f.y - mark.y);
      expect(await s.page.locator('[data-testid="lab-miss"]').textContent()).toContain(`was ${distance.toFixed(1)} points from the answer`);
      expect(await count('[data-testid="accuracy-table"]')).toBe(1);
      expect((await legend()).join(' | ')).toMatch(/fine-tuned/);
      expect(s.errors).toEqual([]);
    },
    SLOW_TEST_MS,
  );

  it(
    'a chart-and-slider link to step 3 takes a keyboard prediction, reveals the curve; steps 4 and 5 open from their links, in a new page or the same one',
    async () => {
      await s.page.setViewportSize({ width: 1280, height: 720 });
      await open('#lab=3&hide=header,controls,table,paper,pair,recommended,uploads&slider_hide=true');
      await s.page.waitForSelector('[data-testid="lab"][data-step="3"]');
      for (const gone of ['header', '.view-controls', '.side-col', '.uploads', '.recommended']) expect(await count(gone), gone).toBe(0);
      expect(await s.page.locator('input#alpha').isVisible()).toBe(true);
      await s.page.waitForFunction(() => !location.hash.includes('slider_hide') && location.hash.includes('alpha=0.50'));
      expect((await legend()).join(' | ')).not.toMatch(/WiSE-FT|recorded/);

      await s.page.getByLabel('Predicted reference accuracy (%)').fill('85');
      await s.page.getByLabel('Predicted accuracy under shift (%)').fill('60');
      await s.page.getByLabel('Predicted accuracy under shift (%)').press('Enter');
      await s.page.waitForSelector('[data-testid="lab-mark"]');
      expect(await appState(s.page, (st) => st.prediction)).toEqual({ x: 85, y: 60 });
      await s.page.locator('[data-testid="lab-reveal"]').click();
      await s.page.waitForSelector('[data-testid="lab-answer"]');
      const h = recorded(0.5);
      const answer = await s.page.locator('[data-testid="lab-answer-text"]').textContent();
      expect(answer).toContain(`α = 0.5: ${h.x.toFixed(1)}% on the reference and ${h.y.toFixed(1)}% under shift`);
      expect(answer).toMatch(/points (above|below) the dashed line/);
      expect((await legend()).join(' | ')).toMatch(/WiSE-FT/);
      await s.page.waitForTimeout(500);
      await s.page.screenshot({ path: `${SHOTS}/lab-mode.png` });

      await open('#lab=4');
      await s.page.waitForFunction(
        () => /output-space ensemble/.test(document.querySelector('[data-testid="frontier"]')?.textContent ?? ''),
        undefined,
        {
          timeout: UI_UPDATE_MS,
        },
      );
      expect(await s.page.locator('[data-testid="lab-answer-text"]').textContent()).toMatch(/^At α = 0\.5 the weight average scores/);
      await open('#lab=5');
      await s.page.waitForSelector('[data-testid="lab-rows"]');
      expect(await s.page.locator('[data-testid="lab-rows"] tr').count()).toBe(SHIFTS.length);
      await s.page.waitForFunction((rec) => location.hash.includes(`alpha=${rec}`), REC);
      expect(await count('.recommended')).toBe(1);
      // A link to another step opened in the same tab changes only the hash: the lab follows it, with no reload.
      await s.page.evaluate(() => {
        (globalThis as { beforeLink?: boolean }).beforeLink = true;
        location.hash = '#lab=4';
      });
      await s.page.waitForSelector('[data-testid="lab"][data-step="4"]', { timeout: UI_UPDATE_MS });
      expect(await s.page.evaluate(() => (globalThis as { beforeLink?: boolean }).beforeLink)).toBe(true);

      // In the presenter view a pending prediction leaves the side column empty: the chart takes the width.
      await open('#lab=2&presenter=1');
      await s.page.waitForSelector('.app.presenter main.single [data-testid="lab-target"]');
      const chart = (await s.page.locator('[data-testid="frontier"]').boundingBox())!;
      expect(chart.width).toBeGreaterThan(0.8 * 1280);
      expect(s.errors).toEqual([]);
    },
    SLOW_TEST_MS,
  );
});
