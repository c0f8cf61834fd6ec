// The explorer as a user meets it: headless Chromium on a fresh profile, the real Worker, the real
// onnxruntime-web, the bundled pair. Screenshots of the main states go to docs/screenshots/.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { decode, encode } from 'fast-png';
import { openPage, type Session } from './setup/chromium';
import { Explorer } from '../../src/core/explorer';
import { loadBundle } from '../../src/core/bundle/source';
import { ortNode } from '../../src/core/runtime/ort-node';
import { dirSource } from '../../src/node/dirSource';
import { parseManifest, type Manifest } from '../../src/core/bundle/manifest';
import { makeTestBundle } from '../support/testBundle';
import { readFileSync } from 'node:fs';
import { appState, withActions } from './setup/page';
import type { State } from '../../src/state/store';
import { APP_START_MS, UI_UPDATE_MS, SHORT_MS, LONG_TEST_MS, BUNDLED_FRONTIER_MS, PAIR_LOAD_MS } from '../support/timeouts';

const PAIR_DIR = 'public/pairs/shapes';
// The α the bundled pair recommends, read from its manifest so that a rebuild of the world moves the test with it.
const REC_ALPHA: number = JSON.parse(readFileSync(join(PAIR_DIR, 'manifest.json'), 'utf8')).models.members[0].recommendedAlpha.alpha;
const REC = REC_ALPHA.toFixed(2);
const SHOTS = 'docs/screenshots';
let s: Session;
let manifest: Manifest;

type Points = Record<string, Record<string, { correct: number; n: number; total: number }>>;

async function waitForFullFrontier(timeoutMs: number): Promise<void> {
  await s.page.waitForFunction(
    () => {
      const st = globalThis.wiseft?.store.getState();
      return !!st && st.fullFrontierMs !== null && !st.evaluating;
    },
    undefined,
    { timeout: timeoutMs, polling: 500 },
  );
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  manifest = parseManifest(readFileSync(join(PAIR_DIR, 'manifest.json')));
  s = await openPage(inject('baseUrl'));
});
afterAll(async () => s?.close());

describe('the explorer on the bundled pair', () => {
  it(
    'loads the bundled pair on a fresh profile and computes a full frontier equal to the Node engine within one image',
    async () => {
      await s.page.waitForSelector('[data-testid="backend"]', { timeout: APP_START_MS });
      await waitForFullFrontier(BUNDLED_FRONTIER_MS);
      const count = Number(await s.page.textContent('[data-testid="frontier-count"]'));
      expect(count).toBeGreaterThanOrEqual(11);
      const points: Points = await appState(s.page, (st) => st.points);
      const ms = (await appState(s.page, (st) => st.fullFrontierMs))!;
      console.log(`full frontier in the browser: ${(ms / 1000).toFixed(1)} s`);

      const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
      await explorer.loadPair(await loadBundle(dirSource(PAIR_DIR)));
      const grid = Array.from({ length: 11 }, (_, i) => i / 10);
      await explorer.evaluate(grid, null, () => undefined);
      const node = explorer.snapshot()!.points;
      await explorer.dispose();
      for (const a of grid) {
        for (const set of manifest.eval!.sets) {
          const web = points[String(a)]![set.id]!;
          const ref = node[String(a)]![set.id]!;
          expect(web.n, `α=${a} ${set.id}`).toBe(set.sprite.count);
          expect(
            Math.abs(web.correct - ref.correct),
            `α=${a} ${set.id}: browser ${web.correct} vs node ${ref.correct}`,
          ).toBeLessThanOrEqual(1);
        }
      }
      await s.page.screenshot({ path: join(SHOTS, 'frontier.png'), fullPage: true });
      expect(s.errors).toEqual([]);
    },
    LONG_TEST_MS,
  );

  it(
    `calls out the recommended α = ${REC} (chosen on a validation draw) with paired intervals and image counts once computed, "computing…" before, and its button moves α`,
    async () => {
      // The full frontier of the first test is computed: the recommended α is on the grid.
      await waitForFullFrontier(BUNDLED_FRONTIER_MS);
      const callout = s.page.locator('[data-testid="recommended"]');
      await s.page.waitForSelector('[data-testid="recommended"][data-state="ready"]', { timeout: UI_UPDATE_MS });
      expect(await callout.locator('[data-testid="recommended-alpha"]').textContent()).toBe(REC);
      expect(await callout.textContent()).toContain(`Recommended α = ${REC} (chosen on a separate validation draw)`);
      expect(await callout.locator('.rec-head .muted').getAttribute('title')).toMatch(
        /^Chosen on: validation draw \(seed 101, 2,000 images per set\)/,
      );
      const findings = await callout.locator('li').evaluateAll((lis) =>
        lis.map((li) => {
          const f = li.querySelector('.finding')!;
          return { text: f.textContent ?? '', direction: f.getAttribute('data-direction'), bold: Number(getComputedStyle(f).fontWeight) };
        }),
      );
      expect(findings).toHaveLength(3);
      const shifts = manifest.eval!.sets.filter((x) => x.role === 'shift').reduce((n, x) => n + x.sprite.count, 0);
      const reference = manifest.eval!.sets.find((x) => x.role === 'reference')!.sprite.count;
      const num = '[+\u2212]\\d+\\.\\d';
      const said = (n: number) =>
        new RegExp(
          `^(gains \\+\\d+\\.\\d points \\[${num}, ${num}\\]|loses \\d+\\.\\d points \\[${num}, ${num}\\]) on ${n.toLocaleString('en')} images$` +
            `|^not distinguishable from zero on ${n.toLocaleString('en')} images \\((0\\.0|${num}) points \\[${num}, ${num}\\]\\)$`,
        );
      for (const [f, n] of [
        [findings[0]!, shifts],
        [findings[1]!, shifts],
        [findings[2]!, reference],
      ] as const) {
        expect(f.text).toMatch(said(n));
        // A gain or a loss (bold) only when the interval excludes 0.
        const [lo, hi] = [...f.text.matchAll(new RegExp(num, 'g'))].slice(-2).map((m) => Number(m[0].replace('\u2212', '-')));
        expect(f.direction === 'none', f.text).toBe(lo! <= 0 && hi! >= 0);
        expect(f.bold >= 600, f.text).toBe(f.direction !== 'none');
      }
      // The shipped world's lesson, measured on the test draw (tools/results): the mean of shifts gains over zero-shot.
      expect(findings[0]!.direction).toBe('gain');

      // The button moves α; the table at the recommended α then shows the same mean-of-shifts difference vs zero-shot.
      await withActions(s.page, (a) => a.setAlpha(0.3));
      await s.page.waitForFunction(() => document.querySelector('[data-testid="alpha-value"]')?.textContent === '0.30');
      await callout.locator('[data-testid="recommended-go"]').click();
      await s.page.waitForFunction((rec) => document.querySelector('[data-testid="alpha-value"]')?.textContent === rec, REC);
      expect(await appState(s.page, (st) => st.alpha)).toBe(REC_ALPHA);
      expect(await s.page.evaluate(() => location.hash)).toContain(`alpha=${REC}`);
      const meanVsZeroShot = await s.page.locator('[data-testid="accuracy-table"] tr[data-set="mean"] td.delta').first().textContent();
      expect(
        findings[0]!.text
          .replace(/^gains /, '')
          .replace(/ points /, '')
          .replace(/ on .*$/, ''),
      ).toBe(meanVsZeroShot);

      // Presenter view: one line, with the chart, slider and table still above the fold.
      await s.page.keyboard.press('p');
      await s.page.waitForSelector('.app.presenter [data-testid="recommended"].compact[data-state="ready"]');
      for (const [width, height] of [
        [1024, 768],
        [1280, 720],
      ] as const) {
        await s.page.setViewportSize({ width, height });
        await s.page.waitForTimeout(600); // the chart's ResizeObserver
        const boxes = await s.page.evaluate(() =>
          [
            '[data-testid="recommended"]',
            '[data-testid="frontier"] .recharts-wrapper',
            'input#alpha',
            '[data-testid="accuracy-table"]',
          ].map((q) => {
            const r = document.querySelector(q)!.getBoundingClientRect();
            return { q, top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height };
          }),
        );
        for (const b of boxes) {
          expect(b.bottom, `${b.q} above the fold at ${width}×${height}`).toBeLessThanOrEqual(height + 0.5);
          expect(b.right, `${b.q} within ${width}`).toBeLessThanOrEqual(width + 0.5);
        }
        expect(boxes[1]!.height, `the chart keeps its room at ${width}×${height}`).toBeGreaterThan(0.45 * height);
        expect(await s.page.textContent('[data-testid="recommended"]')).toMatch(
          new RegExp(`^Recommended α = ${REC.replace('.', '\\.')} \\(validation draw\\): shifts \\+`),
        );
      }
      await s.page.keyboard.press('p');
      await s.page.waitForSelector('.app:not(.presenter) [data-testid="recommended"]:not(.compact)');
      // A phone: the full callout wraps within the width, the page never scrolls sideways.
      await s.page.setViewportSize({ width: 390, height: 844 });
      await s.page.waitForTimeout(600);
      const phone = await s.page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        right: document.querySelector('[data-testid="recommended"]')!.getBoundingClientRect().right,
      }));
      expect(phone.scrollWidth).toBeLessThanOrEqual(390);
      expect(phone.right).toBeLessThanOrEqual(390);
      await s.page.setViewportSize({ width: 1400, height: 900 });

      // Before the recommended α and both endpoints are computed on every image it says so, with no number.
      await withActions(s.page, (a) => a.cancelEvaluation());
      await s.page.waitForFunction(() => !globalThis.wiseft!.store.getState().evaluating);
      await s.page.evaluate((key) => {
        const store = globalThis.wiseft!.store;
        const saved = store.getState().points;
        (globalThis as unknown as { savedPoints: unknown }).savedPoints = saved;
        const { [key]: _dropped, ...rest } = saved;
        store.setState({ points: rest });
      }, String(REC_ALPHA));
      await s.page.waitForSelector('[data-testid="recommended"][data-state="computing"]');
      const computing = (await callout.textContent())!;
      expect(computing).toMatch(new RegExp(`computing… [\\d,]+ of [\\d,]+ images at α = ${REC.replace('.', '\\.')}, 0 and 1`));
      expect(computing).not.toMatch(/gains|loses|distinguishable|points/);
      await s.page.evaluate(() =>
        globalThis.wiseft!.store.setState({ points: (globalThis as unknown as { savedPoints: State['points'] }).savedPoints }),
      );
      await s.page.waitForSelector('[data-testid="recommended"][data-state="ready"]');
      expect(s.errors).toEqual([]);
    },
    LONG_TEST_MS,
  );

  it('moves the highlighted point and the table when the slider moves by keyboard', async () => {
    const slider = s.page.getByRole('slider', { name: /alpha|α/ });
    await slider.focus();
    await s.page.keyboard.press('Home');
    await s.page.waitForFunction(() => document.querySelector('[data-testid="alpha-value"]')?.textContent === '0.00');
    const before = await s.page.textContent('[data-testid="accuracy-table"]');
    for (let i = 0; i < 30; i++) await s.page.keyboard.press('ArrowRight');
    await s.page.waitForFunction(() => document.querySelector('[data-testid="table-alpha"]')?.textContent === '0.30');
    await s.page.waitForSelector('[data-testid="current-point"][data-alpha="0.30"][data-estimate="false"]', { timeout: UI_UPDATE_MS });
    // The table's numbers follow α once its evaluation lands.
    await s.page.waitForFunction(
      (b) =>
        document.querySelector('[data-testid="accuracy-table"]')?.textContent !== b &&
        !document.querySelector('[data-testid="accuracy-table"]')?.textContent?.includes('…'),
      before,
      { timeout: UI_UPDATE_MS },
    );
    expect(await s.page.textContent('[data-testid="accuracy-table"]')).not.toBe(before);
  });

  it(
    'shows each delta as a paired difference with its 95% interval, coloured only when the interval excludes 0',
    async () => {
      await s.page.waitForSelector('[data-testid="backend"]', { timeout: APP_START_MS });
      const slider = s.page.getByRole('slider', { name: /alpha|α/ });
      await slider.focus();
      await s.page.keyboard.press('Home');
      await s.page.waitForFunction(() => document.querySelector('[data-testid="table-alpha"]')?.textContent === '0.00');
      // Both endpoints have at least their first chunk: every set row has both deltas.
      await s.page.waitForFunction(
        () => {
          const rows = [...document.querySelectorAll('[data-testid="accuracy-table"] tbody tr')];
          return rows.length > 0 && rows.every((r) => r.querySelectorAll('td.delta').length === 2);
        },
        undefined,
        { timeout: PAIR_LOAD_MS, polling: 250 },
      );
      const cells = await s.page.$$eval('[data-testid="accuracy-table"] td.delta', (tds) =>
        tds.map((td) => ({
          text: td.textContent ?? '',
          title: td.getAttribute('title') ?? '',
          significant: td.getAttribute('data-significant') === 'true',
          coloured: td.classList.contains('up') || td.classList.contains('down'),
          weight: Number(getComputedStyle(td).fontWeight),
          column: (td as HTMLTableCellElement).cellIndex,
        })),
      );
      expect(cells.length).toBeGreaterThan(0);
      const num = (t: string) => Number(t.replace('\u2212', '-'));
      for (const c of cells) {
        const m = /^(0\.0|[+\u2212]\d+\.\d)\[(0\.0|[+\u2212]\d+\.\d), (0\.0|[+\u2212]\d+\.\d)\]$/.exec(c.text);
        expect(m, `"${c.text}" is a difference with its interval`).not.toBeNull();
        const [lo, hi] = [num(m![2]!), num(m![3]!)];
        expect(lo).toBeLessThanOrEqual(num(m![1]!));
        expect(hi).toBeGreaterThanOrEqual(num(m![1]!));
        expect(c.title).toMatch(/on the [\d,]+ images computed at both α; paired 95% interval/);
        // Coloured and bold exactly when the interval (shown to one decimal) lies on one side of 0.
        expect(c.coloured, c.text).toBe(c.significant);
        if (c.significant) expect(lo >= 0 || hi <= 0, c.text).toBe(true);
        else expect(lo <= 0 && hi >= 0, c.text).toBe(true);
        if (!c.significant) expect(c.weight, `${c.text} is not bold`).toBeLessThan(600);
      }
      // At α = 0 the comparison with zero-shot is the same model on the same images: never coloured.
      for (const c of cells.filter((x) => x.column === 2)) {
        expect(c.significant, c.text).toBe(false);
        expect(c.text.startsWith('0.0[')).toBe(true);
      }
      expect(await s.page.textContent('[data-testid="delta-note"]')).toMatch(/paired 95% interval, same images at both α/);

      // The case: +2.0 from 100 images (3 fixed, 1 broken) is shown neutral with its interval,
      // while −40.0 on the same 100 images is red. Points injected with the evaluation stopped.
      await withActions(s.page, (a) => a.cancelEvaluation());
      await s.page.waitForFunction(() => !globalThis.wiseft!.store.getState().evaluating);
      await s.page.waitForTimeout(300); // the last batch of chunk events
      const sets = await appState(s.page, (st) => st.pair!.sets.map((x) => ({ id: x.id, role: x.role, count: x.count })));
      const ref = sets.find((x) => x.role === 'reference')!;
      const shift = sets.find((x) => x.role === 'shift')!;
      await s.page.evaluate(
        ({ ref, shift }) => {
          const store = globalThis.wiseft!.store;
          (globalThis as unknown as { savedPoints: unknown }).savedPoints = store.getState().points;
          const acc = (count: number, right: (i: number) => boolean) => {
            const bytes = Math.ceil(count / 8);
            const images = { correct: new Uint8Array(bytes), seen: new Uint8Array(bytes) };
            let correct = 0;
            for (let i = 0; i < 100; i++) {
              images.seen[i >> 3]! |= 1 << (i & 7);
              if (right(i)) {
                images.correct[i >> 3]! |= 1 << (i & 7);
                correct++;
              }
            }
            return { correct, n: 100, total: count, images };
          };
          store.setState({
            points: {
              '0': { [ref.id]: acc(ref.count, (i) => i < 63), [shift.id]: acc(shift.count, (i) => i < 40) },
              '1': { [ref.id]: acc(ref.count, (i) => i < 60 || i === 63), [shift.id]: acc(shift.count, (i) => i < 80) },
            },
          });
        },
        { ref, shift },
      );
      const cell = (set: string) => s.page.locator(`[data-testid="accuracy-table"] tr[data-set="${set}"] td.delta`).nth(1);
      await s.page.waitForFunction((id) => !!document.querySelector(`tr[data-set="${id}"] td.delta[data-significant]`), ref.id);
      expect(await cell(ref.id).textContent()).toMatch(/^\+2\.0\[\u2212\d+\.\d, \+\d+\.\d\]$/);
      expect(await cell(ref.id).getAttribute('class')).not.toMatch(/\b(up|down|sig)\b/);
      expect(await cell(ref.id).getAttribute('title')).toMatch(/on the 100 images computed at both α/);
      expect(await cell(shift.id).textContent()).toMatch(/^\u221240\.0\[/);
      expect(await cell(shift.id).getAttribute('class')).toMatch(/\bdown sig\b/);
      await s.page.evaluate(() =>
        globalThis.wiseft!.store.setState({ points: (globalThis as unknown as { savedPoints: State['points'] }).savedPoints }),
      );
      await withActions(s.page, (a) => a.setAlpha(0.3));
      expect(s.errors).toEqual([]);
    },
    LONG_TEST_MS,
  );

  it('classifies an uploaded PNG from the eval set: top-5 shown, the right class first at α=1', async () => {
    // An image the fine-tuned model gets right, found with the Node engine.
    const ref = manifest.eval!.sets.find((x) => x.role === 'reference')!;
    const sheet = decode(readFileSync(join(PAIR_DIR, ref.sprite.path)));
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    await explorer.loadPair(await loadBundle(dirSource(PAIR_DIR)));
    const tile = ref.sprite.tile;
    const crop = (i: number) => {
      const out = new Uint8Array(tile * tile * 3);
      const ch = sheet.channels;
      const x0 = (i % ref.sprite.columns) * tile;
      const y0 = Math.floor(i / ref.sprite.columns) * tile;
      for (let y = 0; y < tile; y++)
        for (let x = 0; x < tile; x++)
          for (let c = 0; c < 3; c++) out[(y * tile + x) * 3 + c] = (sheet.data as Uint8Array)[((y0 + y) * sheet.width + x0 + x) * ch + c]!;
      return out;
    };
    let index = -1;
    for (let i = 0; i < 50 && index < 0; i++) {
      const r = await explorer.classify([crop(i)], [1]);
      const probs = r.predictions[0]![0]!.probs;
      if (probs.indexOf(Math.max(...probs)) === ref.labels[i]) index = i;
    }
    await explorer.dispose();
    expect(index).toBeGreaterThanOrEqual(0);
    const dir = mkdtempSync(join(tmpdir(), 'wiseft-upload-'));
    const file = join(dir, `reference-${index}.png`);
    writeFileSync(file, encode({ width: tile, height: tile, data: crop(index), channels: 3, depth: 8 }));

    await s.page.setInputFiles('[data-testid="image-input"]', file);
    await s.page.keyboard.press('Escape');
    await s.page.getByRole('slider', { name: /alpha|α/ }).focus();
    await s.page.keyboard.press('End');
    await s.page.waitForSelector('[data-testid="top5"][data-alpha="1.00"]', { timeout: UI_UPDATE_MS }).catch(async (e: unknown) => {
      console.log(
        'uploads at failure:',
        JSON.stringify(
          await appState(s.page, (st) => ({
            alpha: st.alpha,
            uploads: st.uploads.map((u) => ({
              name: u.name,
              status: u.status,
              error: u.error,
              traj: u.trajectory && u.trajectory.length,
              cur: u.current && u.current.alpha,
            })),
            messages: st.messages,
          })),
        ),
      );
      throw e;
    });
    const first = await s.page.textContent('[data-testid="top5"] li:first-child .label');
    expect(first).toBe(manifest.classes[ref.labels[index]!]);
    expect(await s.page.locator('[data-testid="top5"] li').count()).toBe(5);
    await s.page.waitForSelector('.trajectory svg', { timeout: UI_UPDATE_MS });
    await s.page.screenshot({ path: join(SHOTS, 'upload.png'), fullPage: true });
  });

  it('explains a non-image and a mismatched pair, and keeps the previous state working', async () => {
    const alphaBefore = await s.page.textContent('[data-testid="alpha-value"]');
    const pairBefore = await appState(s.page, (st) => st.pair!.bundleHash);
    // A text file named like an image.
    await s.page.setInputFiles('[data-testid="image-input"]', {
      name: 'notes.png',
      mimeType: 'image/png',
      buffer: Buffer.from('this is not an image'),
    });
    await s.page.waitForSelector('[data-testid="upload-card"][data-name="notes.png"] .error', { timeout: SHORT_MS });
    expect(await s.page.textContent('[data-testid="upload-card"][data-name="notes.png"] .error')).toMatch(
      /not an image this browser can decode/,
    );

    // A pair whose fine-tuned head has 6 classes instead of 5, dropped as files.
    const bad = makeTestBundle({ seed: 5, sets: [], fineTuned: { shapes: { 'head.weight': [16, 6], 'head.bias': [6] } } });
    const payload = [...bad.files].map(([path, bytes]) => ({ path, b64: Buffer.from(bytes).toString('base64') }));
    await s.page.evaluate((files) => {
      const dt = new DataTransfer();
      for (const f of files) {
        const bin = Uint8Array.from(atob(f.b64), (ch) => ch.charCodeAt(0));
        dt.items.add(new File([bin], f.path.split('/').pop()!));
      }
      document
        .querySelector('[data-testid="app"]')!
        .dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, payload);
    await s.page.waitForSelector('[data-testid="pair-error"]', { timeout: SHORT_MS });
    const msg = await s.page.textContent('[data-testid="pair-error"]');
    expect(msg).toMatch(/cannot be blended.*head\.weight.*float32\[16, 5\].*float32\[16, 6\]/);
    await s.page.screenshot({ path: join(SHOTS, 'errors.png'), fullPage: true });
    expect(await appState(s.page, (st) => st.pair!.bundleHash)).toBe(pairBefore);
    expect(await s.page.textContent('[data-testid="alpha-value"]')).toBe(alphaBefore);
    // Still working: moving α still updates the table.
    await s.page.getByRole('slider', { name: /alpha|α/ }).focus();
    await s.page.keyboard.press('ArrowLeft');
    await s.page.waitForFunction(() => document.querySelector('[data-testid="table-alpha"]')?.textContent === '0.99');
  });

  it('restores α and the selected shift from a copied URL hash', async () => {
    const shift = manifest.eval!.sets.find((x) => x.role === 'shift')!.id;
    const url = new URL(inject('baseUrl'));
    url.hash = `alpha=0.35&shift=${shift}`;
    await s.page.goto('about:blank');
    await s.page.goto(url.href);
    await s.page.waitForFunction(() => document.querySelector('[data-testid="alpha-value"]')?.textContent === '0.35');
    await s.page.waitForSelector('[data-testid="backend"]', { timeout: APP_START_MS });
    expect(await s.page.locator('select[aria-label="Shift shown on the y axis"]').inputValue()).toBe(shift);
    expect(await s.page.getByRole('slider', { name: /alpha|α/ }).inputValue()).toBe('0.35');
    // Opened from the cache this time (IndexedDB), and the presenter view renders.
    await s.page.keyboard.press('p');
    await s.page.waitForSelector('.app.presenter');
    // docs/screenshots/presenter.png is written by layout.browser.test.ts, at a projector's 1280×720.
  });
});
