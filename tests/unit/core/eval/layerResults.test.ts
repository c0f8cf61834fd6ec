// --layers values parsed strictly; the settings each makes on a pair's groups (the app's presets,
// the sensitivity strip); a per-layer line describes its mixing and never carries an "alpha".
import { describe, it, expect } from 'vitest';
import { layerLine, layerSettingsFor, parseLayerRequest, parseLinesParams, LayerSpecError } from '../../../../src/core/eval/layerResults';
import { presetAlphas, DEFAULT_LINES } from '../../../../src/core/blend/layerPresets';

const groups = [{ id: 'stem' }, { id: 'block.1' }, { id: 'head' }];

describe('--layers values', () => {
  it('reads a list of α (−0.5 to 1.5), a preset or the sensitivity strip', () => {
    expect(parseLayerRequest(' 0, .5,1.5 ')).toEqual({ kind: 'list', alphas: [0, 0.5, 1.5] });
    expect(parseLayerRequest('-0.5')).toEqual({ kind: 'list', alphas: [-0.5] });
    expect(parseLayerRequest('-0')).toEqual({ kind: 'list', alphas: [0] });
    expect(parseLayerRequest('head-only')).toEqual({ kind: 'preset', preset: 'head-only' });
    expect(parseLayerRequest('sensitivity')).toEqual({ kind: 'sensitivity' });
    for (const bad of ['', '1,,2', '0x1', 'NaN', '1e999', '1.6', 'Infinity', 'tail-only'])
      expect(() => parseLayerRequest(bad), bad).toThrow(LayerSpecError);
  });

  it('reads --lines as base,slope within the sliders’ ranges', () => {
    expect(parseLinesParams(undefined)).toEqual(DEFAULT_LINES);
    expect(parseLinesParams('0.1,-0.5')).toEqual({ base: 0.1, slope: -0.5 });
    for (const bad of ['0.1', '0.1,0.2,0.3', '2,0.5', '0.1,1.5', 'a,b']) expect(() => parseLinesParams(bad), bad).toThrow(LayerSpecError);
  });
});

describe('per-layer settings', () => {
  it("are the app's: α-following presets once per α, the LiNeS ramp once, the strip two per group", () => {
    const lines = { base: 0.3, slope: 0.6 };
    const s = layerSettingsFor(
      [
        { kind: 'preset', preset: 'backbone-only' },
        { kind: 'preset', preset: 'lines-reverse' },
        { kind: 'sensitivity' },
        { kind: 'list', alphas: [1, 0, 1] },
      ],
      groups,
      [0.25, 0.75],
      lines,
    );
    expect(s.map((x) => x.alphas)).toEqual([
      presetAlphas('backbone-only', 3, 0.25, lines, true),
      presetAlphas('backbone-only', 3, 0.75, lines, true),
      presetAlphas('lines-reverse', 3, 0, lines, true),
      [0, 1, 1],
      [1, 0, 0],
      [1, 0, 1],
      [0, 1, 0],
      [1, 1, 0],
      [0, 0, 1],
      [1, 0, 1],
    ]);
    expect(s[0]!.describe).toEqual({ preset: 'backbone-only', presetAlpha: 0.25 });
    expect(s[2]!.describe).toEqual({ preset: 'lines-reverse', lines });
    expect(s[3]!.describe).toEqual({ preset: 'sensitivity', group: 'stem', variant: 'reset to zero-shot' });
    expect(s.at(-1)!.describe).toEqual({});
  });

  it('refuses a list of the wrong length, naming the groups', () => {
    expect(() => layerSettingsFor([{ kind: 'list', alphas: [1, 1] }], groups, [], DEFAULT_LINES)).toThrow(
      '--layers gives 2 α, but this pair has 3 layer groups (stem, block.1, head): give 3, in that order',
    );
  });

  it('writes a line with its mixing, accuracies and (when given) ECE and NLL, and no alpha', () => {
    const line = layerLine(
      { alphas: [0, 0.5, 1], describe: { preset: 'x' } },
      groups,
      { reference: { correct: 3, n: 4, total: 10 } },
      {
        reference: { n: 4, correct: 3, ece: 0.1, nll: 0.7 },
      },
    );
    expect(line).toEqual({
      mixing: 'per-layer',
      layers: [
        { layer: 'stem', alpha: 0 },
        { layer: 'block.1', alpha: 0.5 },
        { layer: 'head', alpha: 1 },
      ],
      preset: 'x',
      'reference:top1': 0.75,
      'reference:n': 4,
      'reference:ece': 0.1,
      'reference:nll': 0.7,
    });
  });
});
