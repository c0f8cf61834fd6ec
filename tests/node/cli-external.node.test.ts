import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/wiseft';
import { quiet } from '../support/quiet';
import { externalBundle, SHAPES } from '../support/externalBundle';

describe('wiseft CLI on a bundle whose checkpoints keep their weights in external data files', () => {
  it('exports the same θ(0.5) and evaluates to the same results as on the bundled pair', async () => {
    const dir = await externalBundle();
    const out = mkdtempSync(join(tmpdir(), 'wiseft-external-out-'));
    expect(readFileSync(join(dir, 'zeroshot.onnx')).byteLength).toBeLessThan(50_000);
    for (const [name, pair] of [
      ['bundled', SHAPES],
      ['external', dir],
    ]) {
      expect(await quiet(() => main(['export', '--pair', pair!, '--alpha', '0.5', '--out', join(out, `${name}.onnx`)]))).toBe(0);
      expect(await quiet(() => main(['eval', '--pair', pair!, '--alphas', '0:1:0.5', '--out', join(out, `${name}.jsonl`)]))).toBe(0);
    }
    expect(readFileSync(join(out, 'external.onnx')).equals(readFileSync(join(out, 'bundled.onnx')))).toBe(true);
    expect(readFileSync(join(out, 'external.jsonl'), 'utf8')).toBe(readFileSync(join(out, 'bundled.jsonl'), 'utf8'));
  }, 600_000);

  it('refuses a bundle whose manifest does not list a data file the model names', async () => {
    const dir = await externalBundle();
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { models: { zeroShot: Record<string, unknown> } };
    delete m.models.zeroShot.externalData;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    await expect(quiet(() => main(['export', '--pair', dir, '--alpha', '0.5', '--out', join(dir, 'x.onnx')]))).rejects.toThrow(
      /zeroshot\.onnx: tensor '.*' keeps its data in 'zeroshot\.onnx\.data', which was not given \(a bundle lists it under the model's externalData\)/,
    );
  }, 600_000);
});
