// The lesson under the chart on the bundled pair, as a student meets it: each eval set's images and
// description, what flips between the endpoints at the current α, and per-class accuracy. Every
// count is checked against the accuracy table and the store's points it must agree with.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openPage, type Session } from './setup/chromium';
import { appState, withActions } from './setup/page';
import { parseManifest, type Manifest } from '../../src/core/bundle/manifest';
import { signedPoints } from '../../src/state/table';
import { stripIndices } from '../../src/state/lesson';
import { decode } from 'fast-png';
import { PAIR_LOAD_MS, BUNDLED_FRONTIER_MS, UI_UPDATE_MS, SLOW_TEST_MS } from '../support/timeouts';

const PAIR_DIR = 'public/pairs/shapes';
const SHOTS = 'docs/screenshots';
const ALPHA = 0.5;
let s: Session;
let manifest: Manifest;

interface FlipCells {
  set: string;
  n: number;
  groups: Record<string, { count: number; rightNow: number }>;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  manifest = parseManifest(readFileSync(join(PAIR_DIR, 'manifest.json')));
  s = await openPage(`${inject('baseUrl')}#alpha=${ALPHA.toFixed(2)}`);
});
afterAll(async () => s?.close());

/** α = 0, 1 and the current α computed on every image of every set (the rest of the grid may still run). */
async function waitForEndpointsAndAlpha(): Promise<void> {
  await s.page.waitForFunction(
    (alpha) => {
      const st = globalThis.wiseft?.store.getState();
      if (!st?.pair) return false;
      return ['0', '1', String(alpha)].every((a) => st.pair!.sets.every((set) => st.points[a]?.[set.id]?.n === set.count));
    },
    ALPHA,
    { timeout: BUNDLED_FRONTIER_MS, polling: 500 },
  );
}

async function flipCells(): Promise<FlipCells[]> {
  return s.page.$$eval('[data-testid="flips-view"] tbody tr', (rows) =>
    rows.map((r) => ({
      set: r.getAttribute('data-set')!,
      n: Number(r.getAttribute('data-n')),
      groups: Object.fromEntries(
        [...r.querySelectorAll('td[data-group]')].map((td) => [
          td.getAttribute('data-group')!,
          { count: Number(td.getAttribute('data-count')), rightNow: Number(td.getAttribute('data-right-now')) },
        ]),
      ),
    })),
  );
}

/** The first line of a table cell: "72.3%" or "+2.0" (its interval follows in a span). */
async function tableCell(set: string, column: number): Promise<string> {
  return s.page.$eval(`[data-testid="accuracy-table"] tr[data-set="${set}"] td:nth-of-type(${column})`, (td) =>
    [...td.childNodes]
      .filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.textContent)
      .join('')
      .trim(),
  );
}

function checkAgainstTable(row: FlipCells, points: Record<string, Record<string, { correct: number; n: number }>>, total: number) {
  const g = row.groups;
  const sum = (k: 'count' | 'rightNow') => Object.values(g).reduce((x, v) => x + v[k], 0);
  expect(row.n, row.set).toBe(total);
  expect(sum('count'), row.set).toBe(row.n);
  const correctAt = (a: number) => points[String(a)]![row.set]!.correct;
  const [zs, ft, now] = [correctAt(0), correctAt(1), correctAt(ALPHA)];
  expect(sum('rightNow'), `${row.set}: right at α`).toBe(now);
  expect(g.zeroShotOnly!.count + g.bothRight!.count, `${row.set}: right at zero-shot`).toBe(zs);
  expect(g.fineTunedOnly!.count + g.bothRight!.count, `${row.set}: right at fine-tuned`).toBe(ft);
  return { zs, ft, now };
}

describe('the lesson on the bundled pair', () => {
  it(
    'shows every set with its description and 8 images, and flips and per-class counts that agree with the table at α = 0.50',
    async () => {
      await s.page.waitForSelector('[data-testid="lesson"]', { timeout: PAIR_LOAD_MS }).catch(async (e: unknown) => {
        throw new Error(`${String(e)}; page errors: ${s.errors.join(' | ')}; body: ${(await s.page.textContent('body'))?.slice(0, 500)}`);
      });
      await waitForEndpointsAndAlpha();
      // The rest of the grid is not needed here: free the two cores for the checks.
      await withActions(s.page, (a) => a.cancelEvaluation());

      const strips = await s.page
        .locator('[data-testid="set-strip"]')
        .evaluateAll((els) =>
          els.map((el) => ({ set: el.getAttribute('data-set'), desc: el.querySelector('.set-desc')?.textContent ?? '' })),
        );
      expect(strips).toEqual(manifest.eval!.sets.map((x) => ({ set: x.id, desc: x.description ?? '' })));
      await s.page.waitForFunction(
        () => {
          const imgs = [...document.querySelectorAll<HTMLImageElement>('[data-testid="set-strip"] img')];
          return imgs.length === 48 && imgs.every((i) => i.complete && i.naturalWidth === 32);
        },
        undefined,
        { timeout: UI_UPDATE_MS },
      );

      // A strip's thumbnail is its sprite tile, pixel for pixel (32 px tiles are sent unscaled).
      const ref = manifest.eval!.sets.find((x) => x.id === 'reference')!;
      const index = stripIndices(ref.sprite.count)[0]!;
      const shown = await s.page.$eval('[data-testid="set-strip"][data-set="reference"] img', (img) => {
        const c = document.createElement('canvas');
        [c.width, c.height] = [32, 32];
        const ctx = c.getContext('2d')!;
        ctx.drawImage(img as HTMLImageElement, 0, 0);
        return [...ctx.getImageData(0, 0, 32, 32).data];
      });
      const sheet = decode(readFileSync(join(PAIR_DIR, ref.sprite.path)));
      const tile = (x: number, y: number, c: number) => {
        const [x0, y0] = [(index % ref.sprite.columns) * 32, Math.floor(index / ref.sprite.columns) * 32];
        return sheet.data[((y0 + y) * sheet.width + x0 + x) * sheet.channels + c]!;
      };
      const expectedTile = Array.from({ length: 32 * 32 * 4 }, (_, i) =>
        i % 4 === 3 ? 255 : tile((i >> 2) % 32, Math.floor((i >> 2) / 32), i % 4),
      );
      expect(shown).toEqual(expectedTile);

      const points = await appState(s.page, (st) => st.points);
      const all = await flipCells();
      const rows = all.slice(0, -1);
      expect(rows.map((r) => r.set)).toEqual(manifest.eval!.sets.map((x) => x.id));
      // The last row adds up the shift sets, group by group.
      const shifts = rows.filter((r) => manifest.eval!.sets.find((x) => x.id === r.set)!.role === 'shift');
      const summed = all.at(-1)!;
      expect(summed.set).toBe('shifts');
      expect(summed.n).toBe(shifts.reduce((x, r) => x + r.n, 0));
      for (const [g, v] of Object.entries(summed.groups)) {
        expect(v.count, g).toBe(shifts.reduce((x, r) => x + r.groups[g]!.count, 0));
        expect(v.rightNow, g).toBe(shifts.reduce((x, r) => x + r.groups[g]!.rightNow, 0));
      }
      for (const row of rows) {
        const total = manifest.eval!.sets.find((x) => x.id === row.set)!.sprite.count;
        const { zs, ft, now } = checkAgainstTable(row, points, total);
        expect(await tableCell(row.set, 1)).toBe(`${((100 * now) / total).toFixed(1)}%`);
        expect(await tableCell(row.set, 2)).toBe(signedPoints((now - zs) / total));
        expect(await tableCell(row.set, 3)).toBe(signedPoints((now - ft) / total));
      }

      // The thumbnails of the chosen set: up to 4 per kind, each of a group that has that many.
      await s.page.selectOption('[data-testid="lesson-set"]', 'sketch');
      await s.page.waitForSelector('[data-testid="flip-thumbs"][data-set="sketch"]');
      const sketch = rows.find((r) => r.set === 'sketch')!.groups;
      const expected = [sketch.zeroShotOnly!, sketch.fineTunedOnly!].flatMap((g) => [
        Math.min(4, g.rightNow),
        Math.min(4, g.count - g.rightNow),
      ]);
      expect(expected.some((k) => k > 0)).toBe(true);
      await s.page.waitForFunction(
        (want) => {
          const rowsOf = [...document.querySelectorAll('[data-testid="flip-thumbs"] .flip-group')].flatMap((g) =>
            [...g.querySelectorAll('.flip-kind + *')].map(
              (el) => [...el.querySelectorAll<HTMLImageElement>('img')].filter((i) => i.complete && i.naturalWidth > 0).length,
            ),
          );
          return JSON.stringify(rowsOf) === JSON.stringify(want);
        },
        expected,
        { timeout: UI_UPDATE_MS },
      );

      // Per class on sketch: the classes' counts add up to the set's at α, each class over its own images.
      const classes = await s.page.$$eval('[data-testid="per-class"] td[data-testid="class-now"]', (tds) =>
        tds.map((td) => ({ correct: Number(td.getAttribute('data-correct')), n: Number(td.getAttribute('data-n')) })),
      );
      expect(classes).toHaveLength(manifest.classes.length);
      expect(classes.reduce((x, c) => x + c.n, 0)).toBe(1000);
      expect(classes.reduce((x, c) => x + c.correct, 0)).toBe(points[String(ALPHA)]!.sketch!.correct);

      await s.page.setViewportSize({ width: 1280, height: 800 });
      await s.page.locator('.lesson-head').evaluate((el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 12));
      await s.page.waitForTimeout(300);
      await s.page.screenshot({ path: join(SHOTS, 'flips-view.png') });

      // A phone: the six-column table scrolls in its own box, the page never sideways.
      await s.page.setViewportSize({ width: 390, height: 844 });
      await s.page.waitForTimeout(600);
      expect(await s.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      expect(s.errors).toEqual([]);
    },
    SLOW_TEST_MS,
  );
});
