// `wiseft eval --soups` lines: recipes parsed strictly, one line per recipe in the order asked, the
// mixing named member by member, the greedy steps and Model Stock's layers in their lines.
import { describe, it, expect } from 'vitest';
import { parseSoupRecipes, SoupLines } from '../../../../src/core/soup/soupResults';
import { soupKey, weightsMixing } from '../../../../src/core/eval/ids';
import type { SoupUpdate } from '../../../../src/core/soup/soups';

const key = (w: readonly number[]) => soupKey('k', weightsMixing(w));
const chunk = (w: number[] | null, soup: string, correct: number): SoupUpdate => ({
  kind: 'soup-chunk',
  resultsKey: 'k',
  soupKey: soup,
  recipe: 'weights',
  weights: w,
  point: { reference: { correct, n: 100, total: 1000 } },
  progress: { done: 1, chunkSize: 100 },
});

describe('soup results lines', () => {
  it('parses recipes and refuses anything else', () => {
    expect(parseSoupRecipes('uniform, greedy,model-stock,weights=0:0.25:0.75')).toEqual([
      { kind: 'uniform' },
      { kind: 'greedy' },
      { kind: 'model-stock' },
      { kind: 'weights', weights: [0, 0.25, 0.75] },
    ]);
    expect(() => parseSoupRecipes('weights=0:x')).toThrow(/not a number/);
    expect(() => parseSoupRecipes('soup')).toThrow(/'soup' is not uniform/);
  });

  it('writes one line per recipe, in the order asked, each naming its mixing', () => {
    const lines = new SoupLines(['zero-shot', 'a', 'b']);
    lines.add(chunk([0, 0.5, 0.5], key([0, 0.5, 0.5]), 80));
    lines.add(chunk([0, 1, 0], key([0, 1, 0]), 90));
    const step = { member: 0, alone: 0.9, candidate: 0.9, kept: true, soup: [0] };
    lines.add({ kind: 'greedy-step', resultsKey: 'k', soupKey: key([0, 1, 0]), step });
    lines.add({ kind: 'greedy-step', resultsKey: 'k', soupKey: key([0, 1, 0]), step: { ...step, member: 1, candidate: 0.8, kept: false } });
    lines.add({ kind: 'model-stock', resultsKey: 'k', soupKey: 'k|soup:model-stock', layers: [{ id: 'head', cos: 0.5, t: 2 / 3 }] });
    lines.add(chunk(null, 'k|soup:model-stock', 85));
    const out = lines.lines(parseSoupRecipes('model-stock,greedy,uniform'), key);
    expect(out.map((l) => l.soup)).toEqual(['model-stock', 'greedy', 'uniform']);
    expect(out[0]).toMatchObject({ mixing: 'model-stock', layers: [{ layer: 'head', cos: 0.5, t: 2 / 3 }], 'reference:top1': 0.85 });
    expect(out[1]).toMatchObject({ mixing: { 'zero-shot': 0, a: 1, b: 0 }, 'reference:top1': 0.9, 'reference:n': 100 });
    expect((out[1]!.greedy as { member: string; kept: boolean }[]).map((s) => [s.member, s.kept])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect(out[2]).toMatchObject({ mixing: { 'zero-shot': 0, a: 0.5, b: 0.5 }, 'reference:top1': 0.8 });
    expect(() => lines.lines([{ kind: 'weights', weights: [1, 0, 0] }], key)).toThrow(/no results for soup/);
  });
});
