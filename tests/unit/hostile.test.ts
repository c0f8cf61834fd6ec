// Issue 13, "Hostile inputs, round two": the content items that need no onnxruntime and no browser.
// Each test names its item; each fails on the code before the issue (a bomb decoded, a prototype
// key swallowed, a stack overflowed, a value dropped in silence).
import { describe, it, expect } from 'vitest';
import { encode } from 'fast-png';
import { zipSync } from 'fflate';
import { readImageHeader, checkPixelBudget, ImageTooLargeError, MAX_IMAGE_PIXELS } from '../../src/core/image/header';
import { spriteSet, decodeSprite } from '../../src/core/eval/sprites';
import { BundleError } from '../../src/core/bundle/source';
import { unzipEntries, planEvalFolder, EvalFolderError, checkEvalImageCount } from '../../src/core/eval/folder';
import { parseResults, toResultLine, MAX_RESULT_LINES, ResultsError } from '../../src/core/eval/results';
import { ResultStore } from '../../src/core/eval/frontier';
import { parseManifest } from '../../src/core/bundle/manifest';
import { setIdProblem } from '../../src/core/eval/ids';
import { extent, thinCurve, listSome, isolate, MAX_CHART_POINTS } from '../../src/state/thin';
import { frontierPoints } from '../../src/state/frontier';
import { toCurve, importResults } from '../../src/state/imported';
import { useStore, say, MAX_MESSAGE_CHARS } from '../../src/state/store';
import type { PairSummary } from '../../src/worker/protocol';
import { pngBomb, zipOf, deflatedZeros } from '../support/bombs';
import { makeTestBundle } from '../support/testBundle';

const bomb = pngBomb(20000, 20000);

function sheetSpec(count: number, columns = 10, id = 'reference') {
  return {
    id,
    name: id,
    role: 'reference' as const,
    analogue: null,
    sprite: { path: `eval/${id}.png`, tile: 8, columns, count },
    labels: Array.from({ length: count }, () => 0),
    classes: null,
  };
}

function timed<T>(fn: () => T): { value: T | Error; ms: number } {
  const t0 = performance.now();
  let value: T | Error;
  try {
    value = fn();
  } catch (e) {
    value = e as Error;
  }
  return { value, ms: performance.now() - t0 };
}

describe('item 5: decompression bombs are refused from their headers', () => {
  it('reads the declared size of PNG, JPEG, GIF, WebP and BMP headers', () => {
    expect(readImageHeader(bomb)).toEqual({ format: 'png', width: 20000, height: 20000 });
    expect(readImageHeader(encode({ width: 7, height: 3, data: new Uint8Array(63), channels: 3, depth: 8 }))).toEqual({
      format: 'png',
      width: 7,
      height: 3,
    });
    // JPEG: SOI, an APP0 segment, then SOF0 with height 1234 and width 4321.
    const jpeg = Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 0x04, 0xd2, 0x10, 0xe1, 3, 1, 0x22, 0);
    expect(readImageHeader(jpeg)).toEqual({ format: 'jpeg', width: 4321, height: 1234 });
    const gif = Uint8Array.of(...new TextEncoder().encode('GIF89a'), 0x20, 0x4e, 0x20, 0x4e, 0, 0);
    expect(readImageHeader(gif)).toEqual({ format: 'gif', width: 20000, height: 20000 });
    const webp = new Uint8Array(30);
    webp.set(new TextEncoder().encode('RIFF'), 0);
    webp.set(new TextEncoder().encode('WEBPVP8X'), 8);
    webp.set([0x1f, 0x4e, 0x00, 0x1f, 0x4e, 0x00], 24); // 19999 + 1 each way
    expect(readImageHeader(webp)).toEqual({ format: 'webp', width: 20000, height: 20000 });
    const bmp = new Uint8Array(30);
    bmp.set([0x42, 0x4d], 0);
    bmp.set([0x20, 0x4e, 0, 0, 0xe0, 0xb1, 0xff, 0xff], 18); // 20000, -20000 (top-down)
    expect(readImageHeader(bmp)).toEqual({ format: 'bmp', width: 20000, height: 20000 });
    expect(readImageHeader(new TextEncoder().encode('this is not an image'))).toBeNull();
  });

  it('refuses a 20000×20000 PNG upload from its header, naming the file, its pixels and its size', () => {
    expect(bomb.length).toBeLessThan(2e6);
    const e = timed(() => checkPixelBudget('huge.png', readImageHeader(bomb)!, bomb.length)).value;
    expect(e).toBeInstanceOf(ImageTooLargeError);
    expect((e as Error).message).toMatch(/^'huge\.png' is 20000×20000 pixels \(400 Mpx from a 1\.\d MB file\): more than the 50 Mpx/);
    expect(() => checkPixelBudget('ok.png', { format: 'png', width: 7000, height: 7000 }, 1e6)).not.toThrow();
    expect(7000 * 7000).toBeLessThan(MAX_IMAGE_PIXELS);
  });

  it('refuses a 20000×20000 sprite sheet for 10 tiles without decoding it, and decodes a right one only on demand', () => {
    const r = timed(() => spriteSet(sheetSpec(10), bomb));
    expect(r.value).toBeInstanceOf(BundleError);
    expect((r.value as Error).message).toMatch(
      /eval set 'reference': eval\/reference\.png: the sprite sheet declares 20000×20000px \(400 Mpx in a 1\.\d MB file\), far more than 10 tiles of 8px in 10 columns need \(80×8\): refused without decoding it/,
    );
    // Decoding 1.2 GB of scanlines takes seconds; reading a header, microseconds.
    expect(r.ms).toBeLessThan(200);
    const { files, manifest } = makeTestBundle({ sets: [{ id: 'reference', role: 'reference', count: 30 }] });
    const spec = manifest.eval!.sets[0]!;
    const set = spriteSet(spec, files.get(spec.sprite.path)!);
    expect(set.pixels).toBeNull();
    expect(decodeSprite(spec, files.get(spec.sprite.path)!).pixels!.length).toBe(30 * 8 * 8 * 3);
    // A sheet that fits its tiles is bounded too: 20000×20000 tiles of 1000px, declared, is 400 Mpx.
    const huge = { ...sheetSpec(400, 20), sprite: { path: 'eval/reference.png', tile: 1000, columns: 20, count: 400 } };
    expect(() => spriteSet(huge, bomb)).toThrow(
      /declares 20000×20000px \(400 Mpx in a 1\.\d MB file\), more than the 256 Mpx a sheet may have: split the set/,
    );
    // A CLIP-sized set (1,000 tiles of 224px in 40 columns, 50 Mpx) is within it.
    const clip = { ...sheetSpec(1000, 40), sprite: { path: 'eval/reference.png', tile: 224, columns: 40, count: 1000 } };
    expect(spriteSet(clip, pngBomb(40 * 224, 25 * 224)).pixels).toBeNull();
  });

  it('refuses a zip entry declaring 1.9 GB before inflating it, and skips non-image entries unread', () => {
    const data = deflatedZeros(1_900_000_000, 10_000_000);
    const image = encode({ width: 8, height: 8, data: new Uint8Array(192), channels: 3, depth: 8 });
    const zip = zipOf([
      { name: 'sets/ref/c0/a.png', data, method: 8, size: 1_900_000_000 },
      { name: 'sets/ref/c0/b.png', data: image },
    ]);
    expect(zip.length).toBeLessThan(2.5e6);
    const r = timed(() => unzipEntries(zip));
    expect(r.value).toBeInstanceOf(EvalFolderError);
    expect((r.value as Error).message).toMatch(
      /the zip entry 'sets\/ref\/c0\/a\.png' unpacks to 1\.8 GB \(from 1\.\d MB compressed\), more than the 100\.0 MB one image may take: refused without unpacking/,
    );
    expect(r.ms).toBeLessThan(500);
    // The same bomb as a text file is never inflated: only the image comes out.
    const withText = zipOf([
      { name: 'sets/README.txt', data, method: 8, size: 1_900_000_000 },
      { name: 'sets/ref/c0/b.png', data: image },
    ]);
    const ok = timed(() => unzipEntries(withText));
    expect([...(ok.value as Map<string, Uint8Array>).keys()]).toEqual(['sets/ref/c0/b.png']);
    expect(ok.ms).toBeLessThan(500);
    // Many entries that are each under the limit but together over the total are refused too.
    const d99 = deflatedZeros(99 * 2 ** 20, 99 * 2 ** 14);
    const many = zipOf(
      Array.from({ length: 12 }, (_, i) => ({ name: `s/c0/${i}.png`, data: d99, method: 8 as const, size: 99 * 2 ** 20 })),
    );
    expect(() => unzipEntries(many)).toThrow(/the zip's images unpack to more than 1\.0 GB: refused without unpacking/);
  });
});

describe('item 18: a zip of more than 65,535 entries without ZIP64 is an error, not a partial set', () => {
  it('refuses 70,000 entries declared as 4,464', () => {
    const tiny = new Uint8Array([1]);
    const zip = zipOf(Array.from({ length: 70_000 }, (_, i) => ({ name: `s/c0/${i}.png`, data: tiny })));
    expect(() => unzipEntries(zip)).toThrow(/the zip holds 70,000 entries but its end record says 4,464: it was written without ZIP64/);
    // A normal zip is read as before.
    expect([...unzipEntries(zipSync({ 's/c0/1.png': tiny, 's/c0/2.png': tiny })).keys()]).toEqual(['s/c0/1.png', 's/c0/2.png']);
  });
});

describe('item 6: set ids that are Object.prototype names', () => {
  const reserved = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

  it('a manifest with such a set id is refused, naming the field', () => {
    const { manifest } = makeTestBundle();
    for (const id of reserved) {
      const m = structuredClone(manifest) as unknown as { eval: { sets: { id: string }[] } };
      m.eval.sets[1]!.id = id;
      expect(() => parseManifest(JSON.stringify(m)), id).toThrow(/eval\.sets\.1\.id: is a name JavaScript objects reserve/);
    }
  });

  it('a set folder with such a name is refused with the rule; ordinary names pass', () => {
    for (const id of reserved) {
      expect(() => planEvalFolder([`${id}/circle/1.png`, 'reference/circle/1.png'], ['circle', 'square']), id).toThrow(
        /the set folder '.*' is a name JavaScript objects reserve: set folders need/,
      );
    }
    expect(setIdProblem('my sketches (2024)')).toBeNull();
    expect(setIdProblem('\u202Eevil')).toMatch(/is not a usable set name/);
  });

  it('results keyed by such ids keep every set: no lost reference, no "function Object()" keys', () => {
    const store = new ResultStore(reserved.map((id) => ({ id, count: 10 })));
    reserved.forEach((id, k) =>
      store.record(
        { alpha: 0.5, setId: id, chunk: 0, start: 0, end: 10 },
        Array.from({ length: 10 }, (_, i) => (i < k ? 1 : 0)),
      ),
    );
    const point = store.point(0.5);
    expect(Object.keys(point).sort()).toEqual([...reserved].sort());
    const line = toResultLine(0.5, point);
    expect(
      Object.keys(line)
        .filter((k) => k.endsWith(':top1'))
        .sort(),
    ).toEqual(reserved.map((id) => `${id}:top1`).sort());
    expect(JSON.stringify(line)).not.toMatch(/native code/);
  });

  it('a results file with such dataset names imports them as datasets', () => {
    const lines = parseResults(
      '{"alpha":0,"__proto__:top1":0.5,"constructor:top1":0.25,"toString:top1":0.75}\n{"alpha":1,"__proto__:top1":0.9,"constructor:top1":0.35,"toString:top1":0.55}\n',
    );
    const curve = toCurve('r.jsonl', lines, null);
    expect(curve.reference).toBe('__proto__');
    expect(curve.shifts).toEqual(['constructor', 'toString']);
    expect(curve.points.map((p) => [p.reference, p.shift])).toEqual([
      [0.5, 0.5],
      [0.9, 0.45],
    ]);
  });

  it('the chart data never reads an inherited property as a set result (no NaN%, never "complete")', () => {
    // Points arrive as plain objects (structured clone): a set not computed yet must be absent.
    const pair = {
      sets: [
        { id: 'reference', name: 'reference', role: 'reference', count: 10 },
        { id: 'constructor', name: 'c', role: 'shift', count: 10 },
      ],
    } as unknown as PairSummary;
    const points = { '0.5': { reference: { correct: 5, n: 10, total: 10 } } };
    expect(frontierPoints(pair, points, 'mean')).toEqual([]);
    expect(frontierPoints(pair, points, 'constructor')).toEqual([]);
    const full = { '0.5': { reference: { correct: 5, n: 10, total: 10 }, constructor: { correct: 3, n: 10, total: 10 } } };
    const [p] = frontierPoints(pair, full, 'mean');
    expect(p!.shift.value).toBe(0.3);
    expect(p!.complete).toBe(true);
  });
});

describe('item 1: large results files and the chart', () => {
  it('aggregates 100,000 values without spreading them into arguments', () => {
    const xs = Float64Array.from({ length: 100_000 }, (_, i) => Math.sin(i) * 50 + 50);
    expect(() => Math.min(...Array.from({ length: 200_000 }, () => 1))).toThrow(RangeError);
    expect(extent(xs)).toEqual([expect.closeTo(0, 3), expect.closeTo(100, 3)]);
    expect(extent([NaN, Infinity])).toBeNull();
  });

  it('thins a 50,000-point curve to a few hundred, keeping the endpoints and the best point on each axis', () => {
    const pts = Array.from({ length: 50_000 }, (_, i) => {
      const a = i / 49_999;
      return { alpha: a, x: 60 + 40 * Math.sqrt(a), y: 60 + 20 * Math.sin(Math.PI * a) - 5 * a };
    });
    const thin = thinCurve(pts);
    expect(thin.length).toBeLessThanOrEqual(MAX_CHART_POINTS);
    expect(thin.length).toBeGreaterThan(MAX_CHART_POINTS / 2);
    expect(thin[0]).toBe(pts[0]);
    expect(thin[thin.length - 1]).toBe(pts[pts.length - 1]);
    const bestY = pts.reduce((b, p) => (p.y > b.y ? p : b));
    expect(thin).toContain(bestY);
    // In α order, and every kept point is a real one.
    for (let i = 1; i < thin.length; i++) expect(thin[i]!.alpha).toBeGreaterThan(thin[i - 1]!.alpha);
    expect(thinCurve(pts.slice(0, 20))).toEqual(pts.slice(0, 20));
  });

  it('refuses a results file over the line cap with a message saying so', () => {
    const text = Array.from({ length: 62_000 }, (_, i) =>
      JSON.stringify({ alpha: i / 61_999, 'ImageNet:top1': 0.7, 'ImageNetV2:top1': 0.6 }),
    ).join('\n');
    expect(() => parseResults(text)).toThrow(
      new RegExp(`the results file has 62,000 lines, more than the ${MAX_RESULT_LINES.toLocaleString('en')} this page reads`),
    );
    const ok = Array.from({ length: MAX_RESULT_LINES }, (_, i) =>
      JSON.stringify({ alpha: i / (MAX_RESULT_LINES - 1), 'ImageNet:top1': 0.7 }),
    ).join('\n');
    expect(parseResults(ok)).toHaveLength(MAX_RESULT_LINES);
  });
});

describe('item 19: toasts and values in results files', () => {
  it('reports a non-finite accuracy with its line instead of dropping it', () => {
    expect(() => parseResults('{"alpha":0,"ImageNet:top1":0.7}\n{"alpha":0.5,"ImageNet:top1":1e999,"ImageNetV2:top1":0.6}\n')).toThrow(
      /line 2: "ImageNet:top1" is not a finite number \(a value like 1e999 reads as Infinity\)/,
    );
    expect(() => parseResults('{"alpha":0,"ImageNet:top1":"0.7"}')).toThrow(/line 1: "ImageNet:top1" is "0\.7", not a number/);
    expect(() => parseResults('{"alpha":0,"ImageNet:top1":0.7,"ImageNet:n":-3}')).toThrow(
      /line 1: ImageNet:n = -3 is not a positive whole number of images/,
    );
    expect(() => parseResults('{"alpha":0,"ImageNet:top1":-1e999}')).toThrow(ResultsError);
  });

  it('caps a toast, and lists 10,000 dataset names as five "and 9,995 more"', async () => {
    say('info', 'x'.repeat(100_000));
    const last = useStore.getState().messages.at(-1)!;
    expect(last.text.length).toBeLessThan(MAX_MESSAGE_CHARS + 60);
    expect(last.text).toMatch(/… \(99,400 more characters\)$/);
    expect(listSome(Array.from({ length: 10_000 }, (_, i) => `set${i}`))).toBe('set0, set1, set2, set3, set4 and 9,995 more');

    const names = Array.from({ length: 10_001 }, (_, i) => `dataset_${i}`);
    const line = (a: number) => JSON.stringify(Object.fromEntries([['alpha', a], ...names.map((n) => [`${n}:top1`, 0.5])]));
    await importResults(new File([`${line(0)}\n${line(1)}\n`], 'wide.jsonl'));
    const msg = useStore.getState().messages.at(-1)!;
    expect(msg.kind).toBe('info');
    expect(msg.text).toMatch(
      /^Imported 2 α points from wide\.jsonl: reference dataset_0, 10,000 shifts dataset_1, dataset_2, dataset_3, dataset_4, dataset_5 and 9,995 more\.$/,
    );
  });
});

describe('item 8: user strings in plain text are isolated', () => {
  it('wraps right-to-left text and overrides in isolates, cuts long names, leaves plain names alone', () => {
    expect(isolate('\u202E300 images')).toBe('\u2068\u202E300 images\u2069');
    expect(isolate('שלום')).toBe('\u2068שלום\u2069');
    expect(isolate('sketch')).toBe('sketch');
    expect(isolate('a'.repeat(500), 40)).toBe(`${'a'.repeat(40)}…`);
  });
});

describe('item 18 (and 12): eval images are counted before any is decoded', () => {
  it('refuses 100,000 CLIP-sized images, saying how many fit; 1,000 pass', () => {
    expect(() => checkEvalImageCount(100_000, 224)).toThrow(
      /these eval sets have 100,000 images: at 224×224 they would take 14\.0 GB in memory, more than the 1\.0 GB this page holds for them; use at most 7,133 images/,
    );
    expect(() => checkEvalImageCount(1_000, 224)).not.toThrow();
    expect(() => checkEvalImageCount(100_000, 32)).not.toThrow();
  });
});
