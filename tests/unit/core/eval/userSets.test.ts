import { describe, it, expect } from 'vitest';
import { packUserEvalSets, resultsKeyFor, type UserEvalSet } from '../../../../src/core/eval/userSets';
import { sha256Hex } from '../../../../src/core/util/hash';

const SIZE = 2;
const image = (v: number) => new Uint8Array(SIZE * SIZE * 3).fill(v);
const set = (id: string, role: 'reference' | 'shift', values: number[]): UserEvalSet => ({
  id,
  name: id,
  role,
  images: values.map(image),
  labels: values.map((v) => v % 2),
  classSubset: null,
});

describe('packUserEvalSets', () => {
  it('packs each set into one pixel buffer, labels as Int32Array', () => {
    const [ref, shift] = packUserEvalSets([set('ref', 'reference', [1, 2, 3]), set('shift', 'shift', [4])], SIZE);
    expect(ref!.count).toBe(3);
    expect(ref!.pixels).toEqual(new Uint8Array([...image(1), ...image(2), ...image(3)]));
    expect(ref!.labels).toEqual(Int32Array.from([1, 0, 1]));
    expect(ref!.spec.description).toBe('3 images you provided');
    expect(shift!.spec.role).toBe('shift');
  });

  it('refuses what the evaluation cannot key or read, naming the problem', () => {
    expect(() => packUserEvalSets([], SIZE)).toThrow('no eval sets');
    expect(() => packUserEvalSets([set('__proto__', 'reference', [1])], SIZE)).toThrow(/set ids need/);
    expect(() => packUserEvalSets([set('a', 'reference', [1]), set('a', 'shift', [2])], SIZE)).toThrow('two eval sets have the same id');
    expect(() => packUserEvalSets([set('a', 'shift', [1])], SIZE)).toThrow('exactly one set must be the reference');
    const wrongSize = { ...set('a', 'reference', [1]), images: [new Uint8Array(5)] };
    expect(() => packUserEvalSets([wrongSize], SIZE)).toThrow("set 'a': image 0 is not 2×2 RGB");
  });
});

describe('resultsKeyFor', () => {
  const sets = () => packUserEvalSets([set('ref', 'reference', [1, 2]), set('shift', 'shift', [3])], SIZE);

  it('hashes the bundle, every image, label and role: the recipe results were always keyed by', async () => {
    const data = sets();
    const text = (s: string) => new TextEncoder().encode(s);
    const parts = [text('abc'), ...data.flatMap((d) => [d.pixels!, new Uint8Array(d.labels.buffer), text(`${d.spec.id}:${d.spec.role}`)])];
    const want = (await sha256Hex(text((await Promise.all(parts.map(sha256Hex))).join(':')))).slice(0, 16);
    expect(await resultsKeyFor('abc', data)).toBe(want);
  });

  it('changes with the bundle, a pixel or a label', async () => {
    const key = await resultsKeyFor('abc', sets());
    expect(await resultsKeyFor('abd', sets())).not.toBe(key);
    const pixel = sets();
    pixel[0]!.pixels![0] = 9;
    expect(await resultsKeyFor('abc', pixel)).not.toBe(key);
    const label = sets();
    label[1]!.labels[0] = 0;
    expect(await resultsKeyFor('abc', label)).not.toBe(key);
  });
});
