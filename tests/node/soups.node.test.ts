// Soups on the bundled pair through the real engine on onnxruntime-node: the K-member soup engine
// with a one-hot weight vector is that member bit for bit, the uniform soup equals an independent
// float64 average of the members' checkpoints to 1e-6 relative, and the Explorer's soups (greedy,
// Model Stock) arrive under their own keys, a one-hot soup scoring what α = 1 scores.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { BlendEngine } from '../../src/core/runtime/engine';
import { ortNode } from '../../src/core/runtime/ort-node';
import { parseModel, tensorValues } from '../../src/core/onnx/model';
import { parseManifest } from '../../src/core/bundle/manifest';
import { floatWeights } from '../../src/core/moved/moved';
import { openSoupEngine } from '../../src/core/soup/soupEngine';
import type { SoupUpdate } from '../../src/core/soup/soups';
import type { SetAccuracy } from '../../src/core/eval/frontier';
import { Explorer } from '../../src/core/explorer';
import { loadBundle } from '../../src/core/bundle/source';
import { sourceFor } from '../../src/node/dirSource';

/** Images among the first `n` that α's bitset marks right. */
function countFirst(s: SetAccuracy, n: number): number {
  let c = 0;
  for (let i = 0; i < n; i++) if (s.images!.correct[i >> 3]! & (1 << (i & 7))) c++;
  return c;
}

const pairDir = 'public/pairs/shapes';
const read = (p: string) => new Uint8Array(readFileSync(`${pairDir}/${p}`));
const manifest = parseManifest(readFileSync(`${pairDir}/manifest.json`, 'utf8'));
const paths = manifest.models.members.map((m) => m.model.path);

async function soupEngine(): Promise<BlendEngine> {
  const pair = await BlendEngine.create(read('zeroshot.onnx'), read(paths[0]!), { ort: ortNode, backend: 'cpu', inputName: 'image' });
  try {
    return await openSoupEngine(pair, manifest, async (m) => read(m.model.path), { ort: ortNode, backend: 'cpu' });
  } finally {
    await pair.dispose();
  }
}

describe('the soup engine over every member of the bundled pair', () => {
  it('exports a one-hot soup as that member bit for bit, and the uniform soup as a float64 average within 1e-6 relative', async () => {
    const engine = await soupEngine();
    try {
      const k = engine.info.members;
      expect(k).toBe(1 + paths.length);
      const view = (v: ReturnType<typeof tensorValues>) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      const oneHot = Array.from({ length: k }, (_, i) => (i === 2 ? 1 : 0));
      const exported = parseModel(await engine.exportOnnx({ weights: oneHot }));
      for (const t of parseModel(read(paths[1]!)).graph.initializer) {
        const got = exported.graph.initializer.find((x) => x.name === t.name)!;
        expect(view(tensorValues(got)), t.name).toEqual(view(tensorValues(t)));
      }
      const uniform = [0, ...paths.map(() => 1 / paths.length)];
      const soup = floatWeights(parseModel(await engine.exportOnnx({ weights: uniform })));
      const members = paths.map((p) => floatWeights(parseModel(read(p))));
      let checked = 0;
      for (const name of engine.info.differing.map((d) => d.name)) {
        const got = soup.get(name)!.values;
        let worst = 0;
        got.forEach((v, i) => {
          // Plain JS numbers: the average in float64, rounded by nothing.
          const w = members.reduce((s, m) => s + m.get(name)!.values[i]!, 0) / members.length;
          worst = Math.max(worst, Math.abs(v - w) / Math.max(Math.abs(w), 1e-6));
        });
        expect(worst, name).toBeLessThanOrEqual(1e-6);
        checked += got.length;
      }
      expect(checked).toBeGreaterThan(100_000);
    } finally {
      await engine.dispose();
    }
  });
});

describe('Explorer.evaluateSoups on the bundled pair (100 images per set)', () => {
  it('reports the greedy steps and Model Stock, each soup under its own key; a one-hot soup scores what α = 1 scores', async () => {
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    try {
      await explorer.loadPair(await loadBundle(sourceFor(pairDir), () => {}, { member: 'e2e-seed0', unknownMember: 'error' }));
      const updates: SoupUpdate[] = [];
      const recipes = [
        { kind: 'weights', weights: [0, 1, 0, 0] },
        { kind: 'uniform' },
        { kind: 'greedy' },
        { kind: 'model-stock' },
      ] as const;
      expect(await explorer.evaluateSoups(recipes, 100, (u) => updates.push(u))).toBe('done');
      const chunks = updates.flatMap((u) => (u.kind === 'soup-chunk' ? [u] : []));
      const keys = new Set(chunks.map((u) => u.soupKey));
      expect([...keys].every((k) => k.includes('|soup:'))).toBe(true);
      const steps = updates.flatMap((u) => (u.kind === 'greedy-step' ? [u.step] : []));
      expect(steps.length).toBe(paths.length);
      expect(steps[0]!.kept).toBe(true);
      expect(steps.map((s) => s.alone)).toEqual([...steps.map((s) => s.alone)].sort((a, b) => b - a));
      const stock = updates.find((u) => u.kind === 'model-stock');
      expect(stock && stock.kind === 'model-stock' && stock.layers.every((l) => l.cos !== null && l.t > 0 && l.t <= 1)).toBe(true);
      await explorer.evaluate([1], null, () => {});
      const atOne = explorer.snapshot()!.points['1']!;
      const oneHot = chunks.filter((u) => u.soupKey.endsWith('soup:w=0,1,0,0')).at(-1)!.point;
      for (const set of Object.keys(oneHot)) expect(oneHot[set]!.correct, set).toBe(countFirst(atOne[set]!, oneHot[set]!.n));
    } finally {
      await explorer.dispose();
    }
  });
});
