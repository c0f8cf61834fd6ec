// The linear probe on the bundled pair, on the real onnxruntime-node: features of the reference
// photos through the zero-shot tower, a head trained on half of them, written back into the
// zero-shot checkpoint. For this member θ(α) differs from θ0 in the head only, and logits are linear
// in the head, so the engine's weight-space blend must equal the output-space ensemble at every α.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { loadBundle, type LoadedBundle } from '../../src/core/bundle/source';
import { dirSource } from '../../src/node/dirSource';
import { ortNode } from '../../src/core/runtime/ort-node';
import { BlendEngine } from '../../src/core/runtime/engine';
import { decodeSprite, normalizeHWC } from '../../src/core/eval/sprites';
import { parseModel, serializeModel, tensorValues, describeTensor, DATA_TYPE } from '../../src/core/onnx/model';
import { ModelProtoType, NodeProtoType, type ModelProto } from '../../src/core/onnx/proto';
import { floatToHalf, halfToFloat } from '../../src/core/onnx/half';
import { zeroShotFeatures } from '../../src/core/train/features';
import { trainLinearProbe, headAccuracy, type LinearProbeOptions } from '../../src/core/train/linearProbe';
import { stratifiedSplit, selectRows, TrainingError, type LabelledFeatures } from '../../src/core/train/data';
import { readHead, writeHead, type LinearHead } from '../../src/core/train/head';
import { OnnxError } from '../../src/core/onnx/model';
import { TextTower } from '../../src/core/text/head';

const DIR = 'public/pairs/shapes';
// The pipeline's recipe (lr 1e-3, wd 0.1, 20 warmup steps) over more, smaller steps: 500 images are
// 4 batches of 128, fewer steps than the warmup.
const OPTIONS: LinearProbeOptions = { epochs: 30, batchSize: 32, lr: 1e-3, weightDecay: 0.1, warmup: 20, seed: 0 };

let bundle: LoadedBundle;
let engine: BlendEngine;
let pixels: Uint8Array;
let all: LabelledFeatures;
let train: LabelledFeatures;
let validation: LabelledFeatures;
let split: { train: Int32Array; validation: Int32Array };
let zeroShotHead: LinearHead;
let trained: LinearHead;
let probeBytes: Uint8Array;
/** The bundled world's class count (20 since round 8), read from its manifest. */
let K: number;
const progress: { done: number; total: number }[] = [];

beforeAll(async () => {
  bundle = await loadBundle(dirSource(DIR));
  const m = bundle.manifest;
  K = m.classes.length;
  const spec = m.eval!.sets.find((s) => s.id === 'reference')!;
  const set = decodeSprite(spec, bundle.sprites.get('reference')!);
  pixels = set.pixels!;
  // Any member will do: at α = 0 the engine runs the zero-shot weights.
  engine = await BlendEngine.create(bundle.zeroShot, bundle.fineTuned, { ort: ortNode, backend: 'cpu', inputName: m.io.image });
  const features = await zeroShotFeatures(engine, pixels, set.count, { preprocess: m.preprocess, embedding: m.io.embedding }, (p) =>
    progress.push(p),
  );
  all = { features, labels: set.labels };
  split = stratifiedSplit(set.labels, 0.5, 0);
  train = selectRows(all, split.train);
  validation = selectRows(all, split.validation);
  zeroShotHead = readHead(bundle.zeroShot);
  trained = (await trainLinearProbe(train.features, train.labels, zeroShotHead, OPTIONS)).head;
  probeBytes = writeHead(bundle.zeroShot, trained);
}, 120_000);

afterAll(async () => {
  await engine?.dispose();
});

/** Logits of the reference images through an engine at α, one run of all of them. */
async function logitsAt(e: BlendEngine, alpha: number, rows: Int32Array): Promise<Float32Array> {
  const size = bundle.manifest.preprocess.size;
  const per = size * size * 3;
  const picked = new Uint8Array(rows.length * per);
  rows.forEach((r, i) => picked.set(pixels.subarray(r * per, (r + 1) * per), i * per));
  const x = normalizeHWC(picked, rows.length, size, bundle.manifest.preprocess);
  return (await e.run(alpha, { data: x, dims: [rows.length, 3, size, size] }))[bundle.manifest.io.logits]!.data.slice();
}

function argmax(logits: Float32Array, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (logits[row * classes + c]! > logits[row * classes + best]!) best = c;
  return best;
}

describe('the linear probe on the bundled pair (onnxruntime-node)', () => {
  it('computes one L2-normalised 64-d embedding per reference image, reporting progress after each batch', () => {
    expect(all.features.count).toBe(1000);
    expect(all.features.dim).toBe(64);
    for (let i = 0; i < 1000; i += 97) {
      let n = 0;
      for (let d = 0; d < 64; d++) n += all.features.data[i * 64 + d]! ** 2;
      expect(Math.sqrt(n)).toBeCloseTo(1, 4);
    }
    expect(progress.at(-1)).toEqual({ done: 1000, total: 1000 });
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((p, i) => i === 0 || p.done > progress[i - 1]!.done)).toBe(true);
  });

  it('the head read from the zero-shot model gives its logits: embedding · Wᵀ + b', async () => {
    const rows = Int32Array.from({ length: 20 }, (_, i) => i * 50);
    const logits = await logitsAt(engine, 0, rows);
    const C = zeroShotHead.classes;
    rows.forEach((r, i) => {
      for (let c = 0; c < C; c++) {
        let s = zeroShotHead.bias[c]!;
        for (let d = 0; d < 64; d++) s += zeroShotHead.weight[c * 64 + d]! * all.features.data[r * 64 + d]!;
        expect(Math.abs(s - logits[i * C + c]!)).toBeLessThan(1e-4);
      }
    });
  });

  it('raises held-out reference accuracy over zero-shot (500 images trained, 500 held out), and ORT agrees with the features', async () => {
    const before = headAccuracy(zeroShotHead, validation);
    const after = headAccuracy(trained, validation);
    // The shipped linear member (trained by the pipeline on 20,000 other photos) goes 58.2% → 73.6%.
    expect(after - before).toBeGreaterThanOrEqual(0.05);
    const probe = await BlendEngine.create(bundle.zeroShot, probeBytes, {
      ort: ortNode,
      backend: 'cpu',
      inputName: bundle.manifest.io.image,
    });
    try {
      const logits = await logitsAt(probe, 1, split.validation);
      let correct = 0;
      split.validation.forEach((r, i) => {
        if (argmax(logits, i, K) === all.labels[r]) correct++;
      });
      expect(Math.abs(correct - after * split.validation.length)).toBeLessThanOrEqual(1);
    } finally {
      await probe.dispose();
    }
  });

  it("writes the same graph with only the head changed, in the file's dtype", () => {
    const before = parseModel(bundle.zeroShot);
    const after = parseModel(probeBytes);
    const json = (m: ModelProto) =>
      ModelProtoType.toObject(ModelProtoType.fromObject(m as never), { bytes: String }) as Record<string, unknown> & {
        graph: Record<string, unknown>;
      };
    const a = json(before.proto);
    const b = json(after.proto);
    for (const key of ['node', 'input', 'output', 'value_info', 'name'] as const) expect(b.graph[key], key).toEqual(a.graph[key]);
    for (const key of ['ir_version', 'opset_import', 'producer_name', 'producer_version'] as const) expect(b[key], key).toEqual(a[key]);
    expect(after.graph.initializer.map((t) => t.name)).toEqual(before.graph.initializer.map((t) => t.name));
    for (const [i, t] of after.graph.initializer.entries()) {
      const old = before.graph.initializer[i]!;
      expect(describeTensor(t)).toEqual(describeTensor(old));
      if (t.name === 'head.weight') expect(tensorValues(t)).toEqual(trained.weight);
      else if (t.name === 'head.bias') expect(tensorValues(t)).toEqual(trained.bias);
      else expect(tensorValues(t), t.name).toEqual(tensorValues(old));
    }
    expect(readHead(probeBytes)).toEqual(trained);
  });

  it('keeps an fp16 head fp16: the written model stores binary16 and runs with the rounded head', async () => {
    const half = fp16Head(bundle.zeroShot);
    const written = parseModel(writeHead(half, trained));
    const w = written.graph.initializer.find((t) => t.name === 'head.weight')!;
    expect(w.data_type).toBe(DATA_TYPE.FLOAT16);
    expect(Array.from(tensorValues(w) as Uint16Array)).toEqual(Array.from(trained.weight, floatToHalf));
    const e = await BlendEngine.create(half, serializeModel(written), {
      ort: ortNode,
      backend: 'cpu',
      inputName: bundle.manifest.io.image,
    });
    try {
      const rows = Int32Array.of(3, 400, 999);
      const logits = await logitsAt(e, 1, rows);
      rows.forEach((r, i) => {
        for (let c = 0; c < K; c++) {
          let s = halfToFloat(floatToHalf(trained.bias[c]!));
          for (let d = 0; d < 64; d++) s += halfToFloat(floatToHalf(trained.weight[c * 64 + d]!)) * all.features.data[r * 64 + d]!;
          expect(Math.abs(s - logits[i * K + c]!)).toBeLessThan(1e-3);
        }
      });
    } finally {
      await e.dispose();
    }
  });

  it('weight-space interpolation of the head is the output-space ensemble: logits within 1e-4 and the same argmax at α = 0, 0.1, …, 1', async () => {
    const e = await BlendEngine.create(bundle.zeroShot, probeBytes, { ort: ortNode, backend: 'cpu', inputName: bundle.manifest.io.image });
    try {
      expect(e.info.differing.map((d) => d.name).sort()).toEqual(['head.bias', 'head.weight']);
      const rows = Int32Array.from({ length: 1000 }, (_, i) => i);
      const l0 = await logitsAt(e, 0, rows);
      const l1 = await logitsAt(e, 1, rows);
      let worst = 0;
      let argmaxDiffers = 0;
      for (let k = 0; k <= 10; k++) {
        const alpha = k / 10;
        const blended = await logitsAt(e, alpha, rows);
        const ensemble = l0.map((v, i) => (1 - alpha) * v + alpha * l1[i]!);
        for (let i = 0; i < blended.length; i++) worst = Math.max(worst, Math.abs(blended[i]! - ensemble[i]!));
        for (let r = 0; r < 1000; r++) if (argmax(blended, r, K) !== argmax(ensemble, r, K)) argmaxDiffers++;
      }
      expect(worst).toBeLessThanOrEqual(1e-4);
      expect(argmaxDiffers).toBe(0);
    } finally {
      await e.dispose();
    }
  });

  it('is deterministic: the same features, split and seed give the same ONNX bytes', async () => {
    const again = await zeroShotFeatures(engine, pixels, 1000, {
      preprocess: bundle.manifest.preprocess,
      embedding: bundle.manifest.io.embedding,
    });
    expect(again.data).toEqual(all.features.data);
    const s = stratifiedSplit(all.labels, 0.5, 0);
    expect(s).toEqual(split);
    const t = selectRows({ features: again, labels: all.labels }, s.train);
    const head = (await trainLinearProbe(t.features, t.labels, readHead(bundle.zeroShot), OPTIONS)).head;
    expect(Buffer.from(writeHead(bundle.zeroShot, head)).equals(Buffer.from(probeBytes))).toBe(true);
    const other = (await trainLinearProbe(t.features, t.labels, readHead(bundle.zeroShot), { ...OPTIONS, seed: 1 })).head;
    expect(Buffer.from(writeHead(bundle.zeroShot, other)).equals(Buffer.from(probeBytes))).toBe(false);
  });

  it('takes the zero-shot features from a soup engine too (K = 3: weights [1, 0, 0])', async () => {
    const soup = await BlendEngine.createWithMembers(bundle.zeroShot, [bundle.fineTuned, probeBytes], {
      ort: ortNode,
      backend: 'cpu',
      inputName: bundle.manifest.io.image,
    });
    try {
      const f = await zeroShotFeatures(soup, pixels.subarray(0, 50 * 32 * 32 * 3), 50, {
        preprocess: bundle.manifest.preprocess,
        embedding: bundle.manifest.io.embedding,
      });
      expect(f.data).toEqual(all.features.data.subarray(0, 50 * 64));
    } finally {
      await soup.dispose();
    }
  });

  it("trains a head for a folder's own classes: the text tower's zero-shot head for them, both endpoints resized, θ(α) still the ensemble", async () => {
    const m = bundle.manifest;
    const picked = [4, 7, 8]; // cross, arrow, moon: three of the names pretraining rarely used
    const tower = await TextTower.create(ortNode, bundle.text!, bundle.tokenizer, m.text!, 'cpu');
    const text = await tower
      .zeroShotHead(
        picked.map((c) => m.classes[c]!),
        m.templates,
        m.logitScale,
      )
      .finally(() => tower.release());
    const textHead: LinearHead = { weight: text.weight, bias: new Float32Array(3), classes: 3, dim: text.dim };
    const rows = Int32Array.from(Array.from(all.labels.keys()).filter((i) => picked.includes(all.labels[i]!)));
    const folder = selectRows(all, rows);
    folder.labels = Int32Array.from(folder.labels, (y) => picked.indexOf(y));
    const s = stratifiedSplit(folder.labels, 0.3, 0);
    const t = selectRows(folder, s.train);
    const v = selectRows(folder, s.validation);
    const res = await trainLinearProbe(t.features, t.labels, textHead, { ...OPTIONS, validation: v });
    expect(res.epochs.at(-1)!.validationAccuracy!).toBeGreaterThan(res.initialValidationAccuracy!);
    expect(() => writeHead(bundle.zeroShot, res.head)).toThrow(/\{ resize: true \}/);
    const zs3 = writeHead(bundle.zeroShot, textHead, { resize: true });
    const ft3 = writeHead(bundle.zeroShot, res.head, { resize: true });
    const e = await BlendEngine.create(zs3, ft3, { ort: ortNode, backend: 'cpu', inputName: m.io.image });
    try {
      expect(e.info.outputDims[m.io.logits]).toEqual(['batch', 3]);
      expect(e.info.differing.map((d) => d.name).sort()).toEqual(['head.bias', 'head.weight']);
      const some = Int32Array.from(s.validation.subarray(0, 40), (i) => rows[i]!);
      const l0 = await logitsAt(e, 0, some);
      const l1 = await logitsAt(e, 1, some);
      expect(l0.length).toBe(40 * 3);
      for (const alpha of [0.3, 0.7]) {
        const blended = await logitsAt(e, alpha, some);
        blended.forEach((x, i) => expect(Math.abs(x - ((1 - alpha) * l0[i]! + alpha * l1[i]!))).toBeLessThanOrEqual(1e-4));
      }
      // α = 1 is the trained head applied to the features.
      let correct = 0;
      some.forEach((r, i) => {
        if (argmax(l1, i, 3) === picked.indexOf(all.labels[r]!)) correct++;
      });
      const want = headAccuracy(
        res.head,
        selectRows(
          v,
          Int32Array.from({ length: 40 }, (_, i) => i),
        ),
      );
      expect(Math.abs(correct / 40 - want)).toBeLessThanOrEqual(1 / 40);
    } finally {
      await e.dispose();
    }
  });

  it('stops the feature pass when its signal aborts', async () => {
    const ac = new AbortController();
    const run = zeroShotFeatures(
      engine,
      pixels,
      1000,
      { preprocess: bundle.manifest.preprocess, embedding: bundle.manifest.io.embedding, batch: 100 },
      (p) => {
        if (p.done >= 200) ac.abort(new Error('cancelled by the user'));
      },
      ac.signal,
    );
    await expect(run).rejects.toThrow('cancelled by the user');
  });

  describe('refuses bad input with a message that says what to do', () => {
    it('images of the wrong size for the feature pass', async () => {
      const e = await zeroShotFeatures(engine, pixels.subarray(0, 1000), 10, {
        preprocess: bundle.manifest.preprocess,
        embedding: 'embedding',
      }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TrainingError);
      expect((e as Error).message).toMatch(
        /10 images of 32×32 RGB need 30720 bytes but 1000 were given; resize the images to the model's 32px first/,
      );
    });

    it('an output that is not the embedding', async () => {
      const e = await zeroShotFeatures(engine, pixels.subarray(0, 3072), 1, {
        preprocess: bundle.manifest.preprocess,
        embedding: 'nope',
      }).catch((x: unknown) => x);
      expect((e as Error).message).toMatch(/the image model's output 'nope' is missing .* check io.embedding in the manifest/);
    });

    it("labels beyond the pair's classes", async () => {
      const labels = Int32Array.from(train.labels, (y, i) => (i === 2 ? K : y));
      await expect(trainLinearProbe(train.features, labels, zeroShotHead, OPTIONS)).rejects.toThrow(
        new RegExp(`image 2 has label ${K}, but the head has ${K} classes \\(0–${K - 1}\\)`),
      );
    });

    it('features from another model (another dimension)', async () => {
      const narrow = { weight: zeroShotHead.weight.subarray(0, K * 32), bias: zeroShotHead.bias, classes: K, dim: 32 };
      await expect(trainLinearProbe(train.features, train.labels, narrow, OPTIONS)).rejects.toThrow(
        /features have dimension 64 but the head takes 32/,
      );
    });

    it('a head of another shape, a non-finite head, or a model without the head', () => {
      const wrong = { ...trained, weight: trained.weight.subarray(0, 9 * 64), bias: trained.bias.subarray(0, 9), classes: 9 };
      expect(() => writeHead(bundle.zeroShot, wrong)).toThrow(
        new RegExp(
          `the trained head is \\[9, 64\\] but the model's 'head.weight' is \\[${K}, 64\\]: train the head from this model's own head`,
        ),
      );
      const nan = { ...trained, bias: Float32Array.from(trained.bias, (v, i) => (i === 4 ? NaN : v)) };
      expect(() => writeHead(bundle.zeroShot, nan)).toThrow(
        /bias\[4\] is NaN; a head must be finite \(lower the learning rate if training diverged\)/,
      );
      expect(() => writeHead(bundle.zeroShot, trained, { names: { weight: 'fc.weight', bias: 'fc.bias' } })).toThrow(
        /no initializer 'fc.weight', so its linear head cannot be found/,
      );
      expect(() => writeHead(new Uint8Array([1, 2, 3]), trained)).toThrow(OnnxError);
    });
  });
});

/** The zero-shot model with its head stored as float16 and Cast to float32 (fp16 storage, fp32 compute). */
function fp16Head(bytes: Uint8Array): Uint8Array {
  const m = parseModel(bytes);
  const names = ['head.weight', 'head.bias'];
  const initializer = m.graph.initializer.map((t) => {
    if (!names.includes(t.name)) return t;
    const v = tensorValues(t) as Float32Array;
    return { ...t, data_type: DATA_TYPE.FLOAT16, raw_data: new Uint8Array(Uint16Array.from(v, floatToHalf).buffer) };
  });
  const casts = names.map((n) =>
    NodeProtoType.fromObject({
      op_type: 'Cast',
      input: [n],
      output: [`${n}.f32`],
      attribute: [{ name: 'to', type: 2, i: DATA_TYPE.FLOAT }],
    }),
  );
  const node = m.graph.node.map((n) =>
    n.op_type === 'Gemm' && n.output[0] === 'logits' ? { ...n, input: n.input.map((x) => (names.includes(x) ? `${x}.f32` : x)) } : n,
  );
  return serializeModel({ ...m.proto, graph: { ...m.graph, initializer, node: [...(casts as never[]), ...node] } });
}
