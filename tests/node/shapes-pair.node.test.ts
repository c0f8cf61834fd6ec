// The bundled pair, through the app's own loaders in Node: the manifest validates, the text tower
// with tokenizers.js rebuilds the zero-shot head that the zero-shot checkpoint ships (so custom
// labels use the same tokenizer and templates as training), and every member's recorded sweep
// agrees with the engine in weight space at α = 0, 0.5 and 1.
import { describe, it, expect } from 'vitest';
import { loadBundle } from '../../src/core/bundle/source';
import { dirSource } from '../../src/node/dirSource';
import { ortNode } from '../../src/core/runtime/ort-node';
import { TextTower } from '../../src/core/text/head';
import { parseModel, tensorValues } from '../../src/core/onnx/model';
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

  it('ships a v2 bundle: two end-to-end members and a linear classifier, each with recorded sweeps', async () => {
    const m = (await loadBundle(dirSource(DIR))).manifest;
    expect(m.models.members.map((x) => x.kind).sort()).toEqual(['end-to-end', 'end-to-end', 'linear-classifier']);
    for (const x of m.models.members) expect(x.sweeps?.weight && x.sweeps?.output, x.id).toBeTruthy();
  });

  it("the engine reproduces every member's recorded sweeps at α = 0, 0.5 and 1 (within one image per set)", async () => {
    const ids = (await loadBundle(dirSource(DIR))).manifest.models.members.map((x) => x.id);
    for (const id of ids) {
      const bundle = await loadBundle(dirSource(DIR), undefined, { member: id });
      expect(bundle.member.id).toBe(id);
      const weight = bundle.sweeps.weight!;
      const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
      await explorer.loadPair(bundle);
      await explorer.evaluate([0, 0.5, 1], null, () => undefined);
      const snap = explorer.snapshot()!;
      for (const a of [0, 0.5, 1]) {
        const line = weight.find((l) => Math.abs(l.alpha - a) < 1e-9)!;
        for (const [set, acc] of Object.entries(snap.points[String(a)]!)) {
          expect(acc.n, `${id} ${set}`).toBe(line[`${set}:n`]);
          expect(Math.abs(acc.correct / acc.n - line[`${set}:top1`]!), `${id} α=${a} ${set}`).toBeLessThanOrEqual(1 / acc.n + 1e-9);
        }
      }
      await explorer.dispose();
    }
  });
});
