// The bundled pair, through the app's own loaders in Node: the manifest validates, the text tower
// with tokenizers.js rebuilds the zero-shot head that the zero-shot checkpoint ships (so custom
// labels use the same tokenizer and templates as training), and the results file the pipeline
// wrote agrees with the engine at the endpoints.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadBundle } from '../../src/core/bundle/source';
import { dirSource } from '../../src/node/dirSource';
import { ortNode } from '../../src/core/runtime/ort-node';
import { TextTower } from '../../src/core/text/head';
import { parseModel, tensorValues } from '../../src/core/onnx/model';
import { parseResults } from '../../src/core/eval/results';
import { Explorer } from '../../src/core/explorer';

const DIR = 'public/pairs/shapes';

describe('the bundled pair (public/pairs/shapes)', () => {
  it('its text tower rebuilds the shipped zero-shot head from the classes and templates (max |Δ| ≤ 1e-3)', async () => {
    const b = await loadBundle(dirSource(DIR));
    const m = b.manifest;
    const tower = await TextTower.create(ortNode, b.text!, b.tokenizer, m.text!, 'cpu');
    const { weight, dim } = await tower.zeroShotHead(m.classes, m.templates, m.logitScale);
    await tower.release();
    const head = parseModel(b.zeroShot).graph.initializer.find((t) => t.name === 'head.weight')!;
    const shipped = tensorValues(head) as Float32Array;
    expect(shipped.length).toBe(m.classes.length * dim);
    let worst = 0;
    for (let i = 0; i < shipped.length; i++) worst = Math.max(worst, Math.abs(shipped[i]! - weight[i]!));
    expect(worst).toBeLessThanOrEqual(1e-3);
  });

  it("the engine reproduces the pipeline's results.jsonl at α = 0, 0.5 and 1 (within one image per set)", async () => {
    const lines = parseResults(readFileSync(`${DIR}/results.jsonl`, 'utf8'));
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    await explorer.loadPair(await loadBundle(dirSource(DIR)));
    await explorer.evaluate([0, 0.5, 1], null, () => undefined);
    const snap = explorer.snapshot()!;
    for (const a of [0, 0.5, 1]) {
      const line = lines.find((l) => Math.abs(l.alpha - a) < 1e-9)!;
      for (const [set, acc] of Object.entries(snap.points[String(a)]!)) {
        expect(Math.abs(acc.correct / acc.n - line[`${set}:top1`]!), `α=${a} ${set}`).toBeLessThanOrEqual(1 / acc.n + 1e-9);
      }
    }
    await explorer.dispose();
  });
});
