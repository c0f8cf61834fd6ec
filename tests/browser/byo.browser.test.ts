// Bring your own eval sets and results files, in the real app: a folder laid out
// <set>/<class>/<image> with a class subset, wrong layouts explained, and a wise-ft results file
// imported and plotted.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { decode, encode } from 'fast-png';
import { openPage, type Session } from './setup/chromium';
import { Explorer } from '../../src/core/explorer';
import { loadBundle } from '../../src/core/bundle/source';
import { dirSource } from '../../src/node/dirSource';
import { ortNode } from '../../src/core/runtime/ort-node';
import { parseManifest } from '../../src/core/bundle/manifest';
import { appState } from './setup/page';
import { SLOW_UPDATE_MS, UI_UPDATE_MS, MEDIUM_TEST_MS, LONG_TEST_MS } from '../support/timeouts';

const PAIR = 'public/pairs/shapes';
const manifest = parseManifest(readFileSync(join(PAIR, 'manifest.json')));
let s: Session;

type Points = Record<string, Record<string, { correct: number; n: number; total: number }>>;

function tiles(setId: string, count: number): { rgb: Uint8Array; label: number }[] {
  const spec = manifest.eval!.sets.find((x) => x.id === setId)!;
  const sheet = decode(readFileSync(join(PAIR, spec.sprite.path)));
  const t = spec.sprite.tile;
  const out = [];
  for (let i = 0; i < count; i++) {
    const rgb = new Uint8Array(t * t * 3);
    const x0 = (i % spec.sprite.columns) * t;
    const y0 = Math.floor(i / spec.sprite.columns) * t;
    for (let y = 0; y < t; y++)
      for (let x = 0; x < t; x++)
        for (let c = 0; c < 3; c++)
          rgb[(y * t + x) * 3 + c] = (sheet.data as Uint8Array)[((y0 + y) * sheet.width + x0 + x) * sheet.channels + c]!;
    out.push({ rgb, label: spec.labels[i]! });
  }
  return out;
}

function writeImages(
  root: string,
  set: string,
  images: { rgb: Uint8Array; label: number }[],
  nameOf = (l: number) => manifest.classes[l]!,
): void {
  images.forEach((im, i) => {
    const dir = join(root, set, nameOf(im.label));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${i}.png`), encode({ width: 32, height: 32, data: im.rgb, channels: 3, depth: 8 }));
  });
}

beforeAll(async () => {
  s = await openPage(inject('baseUrl'));
  await s.page.waitForFunction(() => globalThis.wiseft?.store.getState().pair, undefined, { timeout: SLOW_UPDATE_MS });
});
afterAll(async () => s?.close());

describe('your own eval sets and results', () => {
  it('imports a wise-ft results file and plots it beside the live frontier', async () => {
    // The bundled pair's own recorded sweep, imported as a results file would be.
    const sweep = readFileSync(join(PAIR, 'sweeps/e2e-seed0.weight.jsonl'));
    await s.page.setInputFiles('[data-testid="results-input"]', { name: 'results.jsonl', mimeType: 'application/json', buffer: sweep });
    await s.page.waitForFunction(() => globalThis.wiseft!.store.getState().imported.length === 1);
    const imported = await appState(s.page, (st) => st.imported);
    expect(imported[0]!.reference).toBe('reference');
    expect(imported[0]!.points).toHaveLength(21);
    await s.page.waitForSelector('text=results.jsonl (imported)');
    // A file that is not a results file is explained, and nothing is lost.
    await s.page.setInputFiles('[data-testid="results-input"]', {
      name: 'notes.jsonl',
      mimeType: 'text/plain',
      buffer: Buffer.from('{"hello": 1}\n'),
    });
    await s.page.waitForSelector('[data-testid="message-error"]:has-text("Could not import notes.jsonl")');
    expect(await appState(s.page, (st) => st.imported.length)).toBe(1);
  });

  it(
    'evaluates a dropped <set>/<class>/<image> folder with a class subset, equal to the Node engine on the same images',
    async () => {
      const root = mkdtempSync(join(tmpdir(), 'wiseft-evalsets-'));
      const ref = tiles('reference', 120);
      // The second set keeps only three classes: it is scored over that subset (logits masked).
      const subset = new Set([0, 3, 8]);
      const sketch = tiles('sketch', 300).filter((t) => subset.has(t.label));
      writeImages(join(root, 'mine'), 'reference', ref);
      writeImages(join(root, 'mine'), 'my_sketches', sketch);
      writeFileSync(join(root, 'mine', 'my_sketches', 'README.txt'), 'not an image: ignored');
      await s.page.setInputFiles('[data-testid="evalset-input"]', join(root, 'mine'));
      await s.page.waitForFunction(
        () => {
          const st = globalThis.wiseft!.store.getState();
          return st.pair?.sets.map((x) => x.id).join(',') === 'reference,my_sketches' && st.fullFrontierMs !== null && !st.evaluating;
        },
        undefined,
        { timeout: MEDIUM_TEST_MS, polling: 500 },
      );
      const sets = await appState(s.page, (st) => st.pair!.sets);
      expect(sets).toEqual([
        expect.objectContaining({ id: 'reference', count: 120, classSubset: null }),
        expect.objectContaining({ id: 'my_sketches', count: sketch.length, classSubset: 3 }),
      ]);
      const points: Points = await appState(s.page, (st) => st.points);

      const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
      await explorer.loadPair(await loadBundle(dirSource(PAIR)));
      await explorer.useEvalSets([
        {
          id: 'reference',
          name: 'reference',
          role: 'reference',
          images: ref.map((t) => t.rgb),
          labels: ref.map((t) => t.label),
          classSubset: null,
        },
        {
          id: 'my_sketches',
          name: 'my_sketches',
          role: 'shift',
          images: sketch.map((t) => t.rgb),
          labels: sketch.map((t) => t.label),
          classSubset: [...subset].sort((a, b) => a - b),
        },
      ]);
      const grid = Array.from({ length: 11 }, (_, i) => i / 10);
      await explorer.evaluate(grid, null, () => undefined);
      const want = explorer.snapshot()!.points;
      await explorer.dispose();
      for (const a of grid) {
        for (const id of ['reference', 'my_sketches']) {
          expect(points[String(a)]![id]!.n).toBe(want[String(a)]![id]!.n);
          expect(Math.abs(points[String(a)]![id]!.correct - want[String(a)]![id]!.correct), `α=${a} ${id}`).toBeLessThanOrEqual(1);
        }
      }
    },
    LONG_TEST_MS,
  );

  it('explains a folder without class folders and class folders that match no class', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wiseft-evalsets-bad-'));
    const flat = join(root, 'flat', 'photos');
    mkdirSync(flat, { recursive: true });
    for (const [i, t] of tiles('reference', 3).entries())
      writeFileSync(join(flat, `${i}.png`), encode({ width: 32, height: 32, data: t.rgb, channels: 3, depth: 8 }));
    // The set folder itself, with its images directly inside: no class folders.
    await s.page.setInputFiles('[data-testid="evalset-input"]', flat);
    await s.page.waitForSelector('[data-testid="pair-error"]:has-text("is not inside a <set>/<class>/ folder")', { timeout: UI_UPDATE_MS });

    writeImages(join(root, 'unknown'), 'photos', tiles('reference', 4), (l) => `hexagon${l}`);
    await s.page.setInputFiles('[data-testid="evalset-input"]', join(root, 'unknown'));
    await s.page.waitForSelector('[data-testid="pair-error"]:has-text("match none of the pair")', { timeout: UI_UPDATE_MS });
    // The sets loaded before are still in use.
    expect(await appState(s.page, (st) => st.pair!.sets.map((x) => x.id).join(','))).toBe('reference,my_sketches');
  });
});
