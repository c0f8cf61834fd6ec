// A complete pair bundle built from the test pair (8×8 images, 5 classes): manifest, both
// checkpoints and eval sprite sheets, for tests of loading, evaluation and the CLI.
import { encode } from 'fast-png';
import { buildTestModel, randomWeights, perturb, rng, wideShapes, WEIGHT_SHAPES, type BuildOptions, NUM_CLASSES } from './testPair';
import type { Manifest } from '../../src/core/bundle/manifest';

export interface BundleFiles {
  files: Map<string, Uint8Array>;
  manifest: Manifest;
}

export function spritePng(count: number, seed: number, tile = 8, columns = 10): Uint8Array {
  const r = rng(seed);
  const rows = Math.ceil(count / columns);
  const data = new Uint8Array(columns * tile * rows * tile * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
  return encode({ width: columns * tile, height: rows * tile, data, channels: 3, depth: 8 });
}

export function makeTestBundle(opts: { seed?: number; sets?: { id: string; role: 'reference' | 'shift'; count: number; classes?: number[] }[]; fineTuned?: BuildOptions; channels?: number } = {}): BundleFiles {
  const seed = opts.seed ?? 1;
  const shapes = opts.channels ? wideShapes(opts.channels) : WEIGHT_SHAPES;
  const w0 = randomWeights(seed, shapes);
  const w1 = perturb(w0, seed + 1);
  const sets = opts.sets ?? [
    { id: 'reference', role: 'reference' as const, count: 300 },
    { id: 'shiftA', role: 'shift' as const, count: 120 },
    { id: 'shiftB', role: 'shift' as const, count: 60, classes: [0, 2, 4] },
  ];
  const files = new Map<string, Uint8Array>();
  files.set('zeroshot.onnx', buildTestModel(w0, { shapes }));
  files.set('finetuned.onnx', buildTestModel(w1, { shapes, ...opts.fineTuned }));
  const r = rng(seed + 7);
  const evalSets = sets.map((s, k) => {
    const path = `eval/${s.id}.png`;
    files.set(path, spritePng(s.count, seed * 100 + k));
    const pool = s.classes ?? Array.from({ length: NUM_CLASSES }, (_, i) => i);
    return {
      id: s.id, name: s.id, role: s.role, analogue: null, description: `random test images (${s.count})`,
      sprite: { path, tile: 8, columns: 10, count: s.count },
      labels: Array.from({ length: s.count }, () => pool[Math.floor(r() * pool.length)]!),
      classes: s.classes ?? null,
    };
  });
  const manifest: Manifest = {
    format: 'wiseft-pair/1',
    name: `test pair ${seed}`,
    description: 'built by the tests',
    models: { zeroShot: { path: 'zeroshot.onnx' }, fineTuned: { path: 'finetuned.onnx' } },
    io: { image: 'image', embedding: 'embedding', logits: 'logits' },
    logitScale: 10,
    templates: ['a photo of a {}.'],
    classes: ['c0', 'c1', 'c2', 'c3', 'c4'],
    preprocess: { size: 8, resize: 'bicubic', crop: 'center', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], layout: 'NCHW' },
    ...(evalSets.length > 0 ? { eval: { sets: evalSets } } : {}),
  };
  files.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)));
  return { files, manifest };
}

/** A BundleSource over in-memory files (for Node tests of the loader). */
export function memorySource(files: Map<string, Uint8Array>) {
  return {
    label: 'memory',
    async read(path: string) {
      const f = files.get(path);
      if (!f) throw new Error(`missing ${path}`);
      return f;
    },
  };
}
