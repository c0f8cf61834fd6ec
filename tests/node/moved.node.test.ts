// "What fine-tuning moved" against an independent float64 computation written here: on random
// small pairs (fp32 and fp16 checkpoints, three members) and on the bundled pair.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Explorer } from '../../src/core/explorer';
import { loadBundle, type BundleSource } from '../../src/core/bundle/source';
import { dirSource } from '../../src/node/dirSource';
import { ortNode } from '../../src/core/runtime/ort-node';
import { parseModel, describeTensor, tensorValues } from '../../src/core/onnx/model';
import { halfToFloat } from '../../src/core/onnx/half';
import { HISTOGRAM_BINS, type MovedReport } from '../../src/core/moved/moved';
import { makeTestBundle, memorySource } from '../support/testBundle';
import { buildTestModel, perturb, randomWeights, roundToHalf, type Weights } from '../support/testPair';

/** θ₁ − θ₀ statistics of one tensor, from plain arrays of numbers, summed in float64. */
function expected(zs: ArrayLike<number>, ft: ArrayLike<number>) {
  let base = 0;
  let delta = 0;
  let limit = 0;
  for (let i = 0; i < zs.length; i++) {
    base += zs[i]! ** 2;
    delta += (ft[i]! - zs[i]!) ** 2;
    limit = Math.max(limit, Math.abs(ft[i]! - zs[i]!));
  }
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  const width = (2 * limit) / HISTOGRAM_BINS;
  for (let i = 0; i < zs.length; i++) {
    const d = ft[i]! - zs[i]!;
    let b = limit === 0 ? (HISTOGRAM_BINS - 1) / 2 : 0;
    while (limit > 0 && b < HISTOGRAM_BINS - 1 && d >= -limit + (b + 1) * width) b++;
    counts[b] = counts[b]! + 1;
  }
  return { rel: Math.sqrt(delta / base), counts, limit, delta };
}

function expectedCosine(zs: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < zs.length; i++) {
    const da = a[i]! - zs[i]!;
    const db = b[i]! - zs[i]!;
    dot += da * db;
    na += da * da;
    nb += db * db;
  }
  return dot / Math.sqrt(na * nb);
}

/** Every row of the report against the independent numbers; `members[k]` holds member k's weights. */
function checkReport(report: MovedReport, zs: Weights, members: Weights[], compared: [number, number]): void {
  expect(report.rows.map((r) => r.name).sort()).toEqual(Object.keys(zs).sort());
  expect(report.compared).toEqual(compared);
  for (const row of report.rows) {
    const z = zs[row.name]!;
    expect(row.params).toBe(z.length);
    members.forEach((m, k) => {
      const e = expected(z, m[row.name]!);
      if (e.delta === 0) expect(row.relativeChange[k]).toBe(0);
      else expect(row.relativeChange[k]! / e.rel - 1).toBeLessThan(1e-12);
      expect(row.deltaNorm[k]).toBeCloseTo(Math.sqrt(e.delta), 12);
      expect(row.histograms[k]!.limit).toBeCloseTo(e.limit, 15);
      expect(row.histograms[k]!.counts).toEqual(e.counts);
    });
    const [a, b] = compared;
    const both = expected(z, members[a]![row.name]!).delta > 0 && expected(z, members[b]![row.name]!).delta > 0;
    if (both) expect(row.cosine).toBeCloseTo(expectedCosine(z, members[a]![row.name]!, members[b]![row.name]!), 12);
    else expect(row.cosine).toBeNull();
  }
}

/** A source that records which files are read after the load. */
function countingSource(files: Map<string, Uint8Array>): BundleSource & { reads: string[] } {
  const inner = memorySource(files);
  const reads: string[] = [];
  return { label: 'memory', reads, read: (p: string) => (reads.push(p), inner.read(p)) };
}

describe('what fine-tuning moved', () => {
  for (const fp16 of [false, true]) {
    for (const seed of [3, 4, 5]) {
      it(`equals a float64 computation on a random ${fp16 ? 'fp16' : 'fp32'} pair with three members (seed ${seed})`, async () => {
        const round = (w: Weights) => (fp16 ? roundToHalf(w) : w);
        const w0 = round(randomWeights(seed));
        const wa = round(perturb(w0, seed + 1, 0.3));
        const wb = round(perturb(w0, seed + 2, 0.02));
        // The linear classifier moves the head only.
        const wc = round({ ...w0, 'head.weight': perturb(w0, seed + 3)['head.weight']!, 'head.bias': perturb(w0, seed + 4)['head.bias']! });
        const bundle = makeTestBundle({
          seed,
          members: [{ id: 'a' }, { id: 'lin', kind: 'linear-classifier' }, { id: 'b' }],
        });
        bundle.files.set('zeroshot.onnx', buildTestModel(w0, { fp16 }));
        bundle.files.set('members/a.onnx', buildTestModel(wa, { fp16 }));
        bundle.files.set('members/lin.onnx', buildTestModel(wc, { fp16 }));
        bundle.files.set('members/b.onnx', buildTestModel(wb, { fp16 }));
        const source = countingSource(bundle.files);
        const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
        await explorer.loadPair(await loadBundle(source, undefined, { member: 'b' }));
        source.reads.length = 0;
        const report = await explorer.moved();
        // The zero-shot model and the loaded member come from the engine's memory; only the others are read.
        expect(source.reads.sort()).toEqual(['members/a.onnx', 'members/lin.onnx']);
        expect(report.members.map((m) => m.id)).toEqual(['a', 'lin', 'b']);
        checkReport(report, w0, [wa, wc, wb], [0, 2]);
        // Classification and evaluation still see θ(α) after the report's one-hot blends.
        expect((await explorer.classify([new Uint8Array(8 * 8 * 3)], [0.5])).predictions[0]).toHaveLength(1);
        await explorer.dispose();
      });
    }
  }

  it('totals are the tensors concatenated: per group and overall', async () => {
    const w0 = randomWeights(8);
    const wa = perturb(w0, 9);
    const wb = perturb(w0, 10);
    const bundle = makeTestBundle({ seed: 8, members: [{ id: 'a' }, { id: 'b' }] });
    bundle.files.set('zeroshot.onnx', buildTestModel(w0));
    bundle.files.set('members/a.onnx', buildTestModel(wa));
    bundle.files.set('members/b.onnx', buildTestModel(wb));
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    await explorer.loadPair(await loadBundle(memorySource(bundle.files)));
    const report = await explorer.moved();
    const concat = (w: Weights, names: string[]) => names.flatMap((n) => Array.from(w[n]!));
    const visual = ['visual.conv.weight', 'visual.conv.bias'];
    const conv = report.groups.find((g) => g.group === 'visual.conv')!;
    expect(conv.params).toBe(4 * 27 + 4);
    expect(conv.relativeChange[0]! / expected(concat(w0, visual), concat(wa, visual)).rel - 1).toBeLessThan(1e-12);
    const all = Object.keys(w0);
    expect(report.overall.relativeChange[1]! / expected(concat(w0, all), concat(wb, all)).rel - 1).toBeLessThan(1e-12);
    expect(report.overall.cosine).toBeCloseTo(expectedCosine(concat(w0, all), concat(wa, all), concat(wb, all)), 12);
    expect(report.groups.map((g) => g.group)).toEqual(['visual.conv', 'visual.proj', 'head', 'logit_scale']);
    await explorer.dispose();
  });

  it('equals a float64 computation on the bundled pair, every member, read from the files here', async () => {
    const dir = 'public/pairs/shapes';
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    await explorer.loadPair(await loadBundle(dirSource(dir)));
    const report = await explorer.moved();
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      models: { zeroShot: { path: string }; members: { id: string; model: { path: string } }[] };
    };
    const weightsOf = (path: string): Weights => {
      const out: Weights = {};
      for (const t of parseModel(readFileSync(join(dir, path))).graph.initializer) {
        const dtype = describeTensor(t).dtype;
        if (dtype === 'float32') out[t.name] = tensorValues(t) as Float32Array;
        else if (dtype === 'float16') out[t.name] = Float32Array.from(tensorValues(t) as Uint16Array, halfToFloat);
      }
      return out;
    };
    const zs = weightsOf(manifest.models.zeroShot.path);
    const members = manifest.models.members.map((m) => weightsOf(m.model.path));
    expect(report.members.map((m) => m.id)).toEqual(manifest.models.members.map((m) => m.id));
    checkReport(report, zs, members, [0, 1]);
    await explorer.dispose();
  }, 120_000);
});
