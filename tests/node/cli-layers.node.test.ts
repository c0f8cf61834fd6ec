// `wiseft eval --layers` and `--calibration` on the bundled pair: a per-layer line per setting, its
// mixing in the line (each group's α, the preset); the uniform preset at α scores what the α line
// scores, ECE and NLL included; ECE and NLL equal a float64 computation written here from the
// logits of the same images; a one-hot soup's ECE and NLL are the member's; the presets and the
// sensitivity strip make the app's settings; bad input fails with a message naming it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/wiseft';
import { captureLog, quiet } from '../support/quiet';
import { Explorer } from '../../src/core/explorer';
import { loadBundle } from '../../src/core/bundle/source';
import { dirSource } from '../../src/node/dirSource';
import { ortNode } from '../../src/core/runtime/ort-node';

const dir = 'public/pairs/shapes';
type Line = Record<string, unknown>;

async function run(args: string[]): Promise<Line[]> {
  const out = join(mkdtempSync(join(tmpdir(), 'wiseft-layers-')), 'out.jsonl');
  expect(await quiet(() => main([...args, '--out', out]))).toBe(0);
  return readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
}

/** Top-label ECE over 15 equal-width bins and mean NLL, from logits, in float64, written plainly. */
function independent(logits: Float32Array, labels: Int32Array, classes: number): { ece: number; nll: number; top1: number } {
  const n = labels.length;
  const rows = Array.from({ length: n }, (_, i) => {
    const z = Array.from(logits.subarray(i * classes, (i + 1) * classes));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    const arg = z.indexOf(m);
    return { conf: e[arg]! / s, right: arg === labels[i], nll: -Math.log(e[labels[i]!]! / s) };
  });
  let ece = 0;
  for (let b = 0; b < 15; b++) {
    const inBin = rows.filter((r) => r.conf > b / 15 && r.conf <= (b + 1) / 15);
    if (inBin.length === 0) continue;
    const acc = inBin.filter((r) => r.right).length / inBin.length;
    const conf = inBin.reduce((a, r) => a + r.conf, 0) / inBin.length;
    ece += (inBin.length / n) * Math.abs(acc - conf);
  }
  return { ece, nll: rows.reduce((a, r) => a + r.nll, 0) / n, top1: rows.filter((r) => r.right).length / n };
}

const setsOf = (l: Line) =>
  Object.keys(l)
    .filter((k) => k.endsWith(':top1'))
    .map((k) => k.slice(0, -5));

describe('wiseft eval --layers and --calibration', () => {
  let explorer: Explorer;
  beforeAll(async () => {
    explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    await explorer.loadPair(await loadBundle(dirSource(dir)));
  });
  afterAll(() => explorer?.dispose());

  it('the uniform preset at α is the α line, ECE and NLL included; both equal a float64 computation from the logits', async () => {
    const alpha = await run(['eval', '--pair', dir, '--alphas', '0,1', '--calibration']);
    const layers = await run(['eval', '--pair', dir, '--layers', 'uniform', '--alphas', '0,1', '--calibration']);
    expect(layers.map((l) => [l.mixing, l.preset, l.presetAlpha])).toEqual([
      ['per-layer', 'uniform', 0],
      ['per-layer', 'uniform', 1],
    ]);
    expect((layers[1]!.layers as { layer: string; alpha: number }[]).map((g) => g.alpha)).toEqual(new Array(8).fill(1));
    expect(layers[0]!.alpha).toBeUndefined();
    const sets = setsOf(alpha[0]!);
    expect(sets).toHaveLength(6);
    for (const [i, a] of [0, 1].entries())
      for (const set of sets) {
        for (const k of ['top1', 'n', 'ece', 'nll'])
          expect(layers[i]![`${set}:${k}`], `${set}:${k} at α = ${a}`).toBe(alpha[i]![`${set}:${k}`]);
        expect(alpha[i]![`${set}:n`]).toBe(1000);
      }
    for (const set of ['reference', 'objectnet']) {
      const l = await explorer.evalLogits(1, set);
      expect(l.classSubset).toBeNull();
      const want = independent(l.logits, l.labels, l.classes);
      expect(alpha[1]![`${set}:top1`]).toBeCloseTo(want.top1, 12);
      expect(Math.abs((alpha[1]![`${set}:ece`] as number) - want.ece)).toBeLessThan(1e-9);
      expect(Math.abs((alpha[1]![`${set}:nll`] as number) - want.nll)).toBeLessThan(1e-9);
    }
    // Without --calibration the lines are as before: accuracies and counts only.
    const plain = await run(['eval', '--pair', dir, '--alphas', '1']);
    expect(Object.keys(plain[0]!).some((k) => k.endsWith(':ece') || k.endsWith(':nll'))).toBe(false);
  }, 600_000);

  it("makes the app's presets and the sensitivity strip; a one-hot soup's ECE and NLL are the member's", async () => {
    const lines = await run([
      'eval',
      '--pair',
      dir,
      '--layers',
      'lines',
      '--lines',
      '0.2,0.8',
      '--layers',
      'sensitivity',
      '--images',
      '100',
      '--calibration',
    ]);
    expect(lines).toHaveLength(1 + 16);
    expect(lines[0]).toMatchObject({ mixing: 'per-layer', preset: 'lines', lines: { base: 0.2, slope: 0.8 } });
    // LiNeS: base + slope·g/(L − 1), in hundredths, as the app's slider steps.
    expect((lines[0]!.layers as { alpha: number }[]).map((g) => g.alpha)).toEqual(
      Array.from({ length: 8 }, (_, g) => Math.round(100 * (0.2 + (0.8 * g) / 7)) / 100),
    );
    const strip = lines.slice(1);
    expect(strip.map((l) => [l.group, l.variant]).slice(0, 2)).toEqual([
      ['encoder.features.0', 'reset to zero-shot'],
      ['encoder.features.0', 'only it fine-tuned'],
    ]);
    for (const l of strip) expect(l['reference:n']).toBe(100);
    const onlyHead = strip.at(-1)!;
    expect((onlyHead.layers as { alpha: number }[]).map((g) => g.alpha)).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);

    const ones = await run(['eval', '--pair', dir, '--layers', '1,1,1,1,1,1,1,1', '--images', '100', '--calibration']);
    // The default member is the first (e2e-seed0); zero-shot first in the soup's weights.
    const soup = await run(['eval', '--pair', dir, '--soups', 'weights=0:1:0:0', '--images', '100', '--calibration']);
    expect(soup[0]!.mixing).toEqual({ 'zero-shot': 0, 'e2e-seed0': 1, 'e2e-seed1': 0, 'linear-seed0': 0 });
    for (const set of setsOf(ones[0]!))
      for (const k of ['top1', 'n', 'ece', 'nll']) expect(soup[0]![`${set}:${k}`], `${set}:${k}`).toBe(ones[0]![`${set}:${k}`]);
  }, 600_000);

  it('lists the layer groups a --layers list gives its α to', async () => {
    const { result, lines } = await captureLog(() => main(['layers', '--pair', dir]));
    expect(result).toBe(0);
    expect(lines).toHaveLength(8);
    expect(lines[0]).toBe('1\tencoder.features.0\t3 tensors');
    expect(lines[6]).toBe('7\tencoder.proj\t1 tensor');
    expect(lines[7]).toBe('8\thead\t2 tensors');
  });

  it('refuses bad input with a message naming it', async () => {
    const fails = (args: string[]) => quiet(() => main(['eval', '--pair', dir, ...args]));
    await expect(fails(['--layers', ''])).rejects.toThrow(/--layers is empty: give one α per layer group/);
    await expect(fails(['--layers', '0.5,abc'])).rejects.toThrow(/--layers value 2: 'abc' is not a number between -0\.5 and 1\.5/);
    await expect(fails(['--layers', '0.5,2'])).rejects.toThrow(/--layers value 2: '2' is not a number between -0\.5 and 1\.5/);
    await expect(fails(['--layers', '0x1'])).rejects.toThrow(/'0x1' is not a number/);
    await expect(fails(['--layers', 'best'])).rejects.toThrow(
      /'best' is not a preset \(uniform, lines, lines-reverse, head-only, backbone-only or sensitivity\)/,
    );
    await expect(fails(['--layers', '0.5,0.5'])).rejects.toThrow(
      /--layers gives 2 α, but this pair has 8 layer groups \(encoder\.features\.0, .*, head\): give 8, in that order/,
    );
    await expect(fails(['--layers', 'lines', '--lines', '0.2'])).rejects.toThrow(/--lines '0\.2': give base,slope/);
    await expect(fails(['--layers', 'lines', '--lines', '0.2,3'])).rejects.toThrow(/--lines slope: '3' is not a number between -1 and 1/);
    await expect(fails(['--layers', 'uniform', '--lines', '0.2,0.8'])).rejects.toThrow(/--lines goes with --layers lines/);
    await expect(fails(['--lines', '0.2,0.8'])).rejects.toThrow(/--lines goes with --layers lines/);
    await expect(fails(['--layers', 'uniform', '--soups', 'uniform'])).rejects.toThrow(/--soups and --layers write different lines/);
    await expect(fails(['--layers', 'uniform', '--shard', '0/2'])).rejects.toThrow(/--shard goes with α lines, not --layers/);
    await expect(fails(['--layers', 'uniform', '--images', '0'])).rejects.toThrow(/--images: '0' is not a whole number/);
    await expect(fails(['--layers', 'uniform', '--alphas', '0,2'])).rejects.toThrow(/--alphas: '2' is not a number between 0 and 1/);
    await expect(fails(['--images', '10'])).rejects.toThrow(/--images goes with --soups or --layers/);
  });
});
