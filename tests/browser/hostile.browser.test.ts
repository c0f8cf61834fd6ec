// Issue 13, "Hostile inputs, round two", in the real app (headless Chromium, the real Worker and
// onnxruntime-web): results files too large for a chart, a view that throws, set names with
// right-to-left overrides or 300 characters, 200 picked images, a 20000×20000 PNG upload, a toast
// of 10,000 names. The page must keep what it had and say what happened.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { SLOW_UPDATE_MS, SHORT_MS, UI_UPDATE_MS } from '../support/timeouts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encode } from 'fast-png';
import { openPage, type Session } from './setup/chromium';
import { appState, waitForPair, withActions } from './setup/reliability';
import { makeTestBundle, memorySource } from '../support/testBundle';
import { loadBundle } from '../../src/core/bundle/source';
import { pngBomb, zipOf, deflatedZeros } from '../support/bombs';
import { failsWhenRun, type Files } from '../support/modelEdits';

const RTL = 'sketch\u202E';
const LONG = `a_set_whose_name_goes_on${'_and_on'.repeat(13)}`; // 115 characters with nowhere to wrap
let s: Session;
let bundleHash: string;

function serve(name: string, files: Files): string {
  for (const [path, bytes] of files) {
    const full = join('tests/.artifacts', name, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, bytes);
  }
  return new URL(`/tests/.artifacts/${name}/manifest.json`, inject('baseUrl')).href;
}

async function lastMessage(kind: 'error' | 'info', pattern: RegExp, timeout = UI_UPDATE_MS): Promise<string> {
  const h = await s.page.waitForFunction(
    ([k, src]) => {
      const st = globalThis.wiseft!.store.getState();
      return (
        st.messages
          .filter((m) => m.kind === k)
          .map((m) => m.text)
          .find((t) => new RegExp(src as string).test(t)) ?? false
      );
    },
    [kind, pattern.source] as const,
    { timeout, polling: 200 },
  );
  return (await h.jsonValue()) as string;
}

const results = (lines: number, datasets: string[]) =>
  Buffer.from(
    Array.from({ length: lines }, (_, i) => {
      const a = i / Math.max(1, lines - 1);
      return JSON.stringify(
        Object.fromEntries([
          ['alpha', a],
          ...datasets.map((d, k) => [`${d}:top1`, k === 0 ? 0.6 + 0.35 * Math.sqrt(a) : 0.5 + 0.2 * Math.sin(Math.PI * a) - 0.05 * a]),
        ]),
      );
    }).join('\n'),
  );

beforeAll(async () => {
  const b = makeTestBundle({
    seed: 13,
    sets: [
      { id: 'reference', role: 'reference', count: 200 },
      { id: 'rtl', role: 'shift', count: 300 },
      { id: 'long', role: 'shift', count: 100 },
    ],
  });
  const m = JSON.parse(new TextDecoder().decode(b.files.get('manifest.json')!)) as { eval: { sets: { id: string; name: string }[] } };
  m.eval.sets[1]!.name = RTL;
  m.eval.sets[2]!.name = LONG;
  b.files.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
  const url = serve('hostile', b.files);
  bundleHash = (await loadBundle(memorySource(b.files))).bundleHash;
  s = await openPage(`${inject('baseUrl')}?pair=${encodeURIComponent(url)}#backend=wasm`);
  await waitForPair(s.page, bundleHash);
});
afterAll(async () => s?.close());

describe('hostile content in the real app', () => {
  it('item 8: set names are isolated in <bdi>, cut with the whole name in a tooltip, and the table stays in its column', async () => {
    await s.page.waitForSelector('[data-testid="accuracy-table"] tbody th bdi');
    const rows = await s.page.$$eval('[data-testid="accuracy-table"] tbody th bdi', (els) =>
      els.map((e) => ({ text: e.textContent, title: e.getAttribute('title') })),
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { text: RTL, title: RTL },
        { text: LONG, title: LONG },
      ]),
    );
    // The name's override ends at its <bdi>: the caption's own "300 images" after it reads left to right.
    const caption = await s.page.$$eval('figcaption bdi', (els) => els.map((e) => e.textContent));
    expect(caption).toEqual(['reference', RTL, LONG]);
    const fit = await s.page.evaluate(() => {
      const table = document.querySelector('[data-testid="accuracy-table"]')!.getBoundingClientRect();
      const col = document.querySelector('.side-col')!.getBoundingClientRect();
      return { table: table.right, col: col.right, page: document.documentElement.scrollWidth, view: window.innerWidth };
    });
    await s.page.screenshot({ path: 'tests/.artifacts/hostile-names.png', fullPage: true });
    if (fit.table > fit.col + 1) {
      console.log(
        await s.page.$$eval('[data-testid="accuracy-table"] tr > *', (els) =>
          els.map((e) => `${e.tagName} ${Math.round(e.getBoundingClientRect().width)} ${(e.textContent ?? '').slice(0, 30)}`).join('\n'),
        ),
      );
    }
    expect(fit.table).toBeLessThanOrEqual(fit.col + 1);
    expect(fit.page).toBeLessThanOrEqual(fit.view);
  });

  it('item 1: a 62,000-line results file is refused with a message and the page keeps everything', async () => {
    const big = results(62_000, ['reference', 'rtl', 'long']);
    expect(big.length).toBeGreaterThan(5e6);
    await s.page.setInputFiles('[data-testid="results-input"]', { name: 'huge.jsonl', mimeType: 'application/x-ndjson', buffer: big });
    const msg = await lastMessage('error', /Could not import huge\.jsonl/);
    expect(msg).toMatch(/the results file has 62,000 lines, more than the 10,000 this page reads/);
    expect(await appState(s.page, (st) => st.pair && st.pair.bundleHash)).toBe(bundleHash);
    expect(await s.page.locator('[data-testid="accuracy-table"]').count()).toBe(1);
    expect(await s.page.locator('[data-testid="view-error"]').count()).toBe(0);
  });

  it('item 1: a 10,000-line sweep is plotted thinned to a few hundred points, and a new α still gets its point', async () => {
    await s.page.setInputFiles('[data-testid="results-input"]', {
      name: 'sweep.jsonl',
      mimeType: 'application/x-ndjson',
      buffer: results(10_000, ['reference', 'rtl', 'long']),
    });
    await lastMessage('info', /Imported 10000 α points from sweep\.jsonl/);
    await s.page.waitForSelector('text=sweep.jsonl (imported)');
    // Every point of the store's curve is kept; the chart draws at most 300 of them for it.
    expect(await appState(s.page, (st) => st.imported[0]!.points.length)).toBe(10_000);
    const symbols = await s.page.locator('.recharts-scatter-symbol').count();
    expect(symbols).toBeLessThan(400);
    await withActions(s.page, (a) => a.setAlpha(0.37));
    await s.page.waitForSelector('[data-testid="current-point"][data-alpha="0.37"]', { timeout: UI_UPDATE_MS });
  });

  it('a view that throws shows its message and a Retry; the rest of the page stays', async () => {
    // A curve the chart cannot draw (what a bug in any view would do): only the chart's place changes.
    await s.page.evaluate(() =>
      globalThis.wiseft!.store.setState({ imported: [{ name: 'broken', reference: 'r', shifts: [], points: null }] } as never),
    );
    const err = s.page.locator('[data-testid="view-error"][data-view="the frontier chart"]');
    await err.waitFor({ timeout: SHORT_MS });
    expect(await err.textContent()).toMatch(/Could not show the frontier chart: .+ The rest of the page still works\.Retry/);
    expect(await s.page.locator('[data-testid="accuracy-table"]').count()).toBe(1);
    expect(await s.page.locator('[data-testid="image-input"]').count()).toBe(1);
    expect(await appState(s.page, (st) => st.pair && st.pair.bundleHash)).toBe(bundleHash);
    await s.page.evaluate(() => globalThis.wiseft!.store.setState({ imported: [] }));
    await err.getByRole('button', { name: 'Retry' }).click();
    await s.page.waitForSelector('[data-testid="frontier-count"]');
    expect(await s.page.locator('[data-testid="view-error"]').count()).toBe(0);
  });

  it('item 19: a toast about 10,000 datasets lists five and says how many more', async () => {
    const names = ['reference', ...Array.from({ length: 10_000 }, (_, i) => `dataset_${i}`)];
    await s.page.setInputFiles('[data-testid="results-input"]', {
      name: 'wide.jsonl',
      mimeType: 'application/x-ndjson',
      buffer: results(2, names),
    });
    const msg = await lastMessage('info', /from wide\.jsonl/);
    expect(msg).toMatch(/10,000 shifts dataset_0, dataset_1, dataset_2, dataset_3, dataset_4 and 9,995 more\.$/);
    const shown = await s.page.locator('[data-testid="message-info"]', { hasText: 'wide.jsonl' }).textContent();
    expect(shown!.length).toBeLessThan(400);
  });

  it('item 12: of 200 picked images 24 are kept and decoded, and the page says so', async () => {
    const files = Array.from({ length: 200 }, (_, i) => ({
      name: `img-${i}.png`,
      mimeType: 'image/png',
      buffer: Buffer.from(encode({ width: 8, height: 8, data: new Uint8Array(192).fill(i), channels: 3, depth: 8 })),
    }));
    await s.page.setInputFiles('[data-testid="image-input"]', files);
    const msg = await lastMessage('info', /Kept 24 of the 200 images/);
    expect(msg).toMatch(/this page shows at most 24 at a time\); the other 176 were not decoded/);
    await s.page.waitForFunction(
      () => {
        const st = globalThis.wiseft!.store.getState();
        return st.uploads.length === 24 && st.uploads.every((u) => u.status === 'ready');
      },
      undefined,
      { timeout: SLOW_UPDATE_MS, polling: 250 },
    );
    expect(await appState(s.page, (st) => st.uploads.map((u) => u.name))).toEqual(files.slice(0, 24).map((f) => f.name));
  });

  it('item 7: a pair that loads but fails when run is refused with the reason; the pair, its results and α stay', async () => {
    const before = await appState(s.page, (st) => ({ points: Object.keys(st.points).length, alpha: st.alpha }));
    expect(before.points).toBeGreaterThan(0);
    const url = serve(
      'hostile-fails',
      failsWhenRun(makeTestBundle({ seed: 14, sets: [{ id: 'reference', role: 'reference', count: 20 }] }).files),
    );
    expect(await withActions(s.page, (a, u) => a.loadPair({ kind: 'url', url: u }, 'the failing pair'), url)).toBe(false);
    const msg = await lastMessage('error', /Could not load the failing pair/);
    expect(msg).toMatch(/the pair loads but fails when run on a test batch of 2 images: .*Reshape.* The previous pair is still loaded\.$/s);
    const after = await appState(s.page, (st) => ({ hash: st.pair!.bundleHash, points: Object.keys(st.points).length, alpha: st.alpha }));
    expect(after).toEqual({ hash: bundleHash, points: before.points, alpha: before.alpha });
    // And the pair in service still evaluates: a new α gets its point (computed, not the estimate drawn meanwhile).
    await withActions(s.page, (a) => a.setAlpha(0.63));
    await s.page.waitForSelector('[data-testid="current-point"][data-alpha="0.63"][data-estimate="false"]', { timeout: UI_UPDATE_MS });
  });

  it('item 5: a zip of eval images with a 1.9 GB entry is refused before anything is unpacked; the sets stay', async () => {
    const zip = zipOf([
      { name: 'mine/reference/c0/a.png', data: deflatedZeros(1_900_000_000, 10_000_000), method: 8, size: 1_900_000_000 },
      { name: 'mine/reference/c1/b.png', data: encode({ width: 8, height: 8, data: new Uint8Array(192), channels: 3, depth: 8 }) },
    ]);
    await withActions(
      s.page,
      (a, bytes) => a.loadEvalFolder([{ path: 'bomb.zip', blob: new Blob([new Uint8Array(bytes)]) }]),
      Array.from(zip),
    );
    const msg = await lastMessage('error', /Could not use those eval images/);
    expect(msg).toMatch(
      /the zip entry 'mine\/reference\/c0\/a\.png' unpacks to 1\.8 GB \(from 1\.\d MB compressed\), more than the 100\.0 MB one image may take: refused without unpacking/,
    );
    expect(await appState(s.page, (st) => st.pair!.sets.map((x) => x.id).join(','))).toBe('reference,rtl,long');
  });

  it('item 5: a 20000×20000 PNG upload is refused from its header, naming the file and its size', async () => {
    const t0 = Date.now();
    await s.page.setInputFiles('[data-testid="image-input"]', {
      name: 'huge.png',
      mimeType: 'image/png',
      buffer: Buffer.from(pngBomb(20000, 20000)),
    });
    const card = s.page.locator('[data-testid="upload-card"][data-name="huge.png"] .error');
    await card.waitFor({ timeout: UI_UPDATE_MS });
    expect(await card.textContent()).toMatch(
      /^'huge\.png' is 20000×20000 pixels \(400 Mpx from a 1\.\d MB file\): more than the 50 Mpx this page decodes, so it was not decoded\.$/,
    );
    expect(Date.now() - t0).toBeLessThan(30_000);
    // The one error logged is React reporting the chart failure the boundary test caused on purpose.
    expect(s.errors.filter((e) => !/error boundary you provided, ErrorBoundary/.test(e))).toEqual([]);
  });
});
