// A complete pair bundle built from the test pair (8×8 images, 5 classes): manifest, both
// checkpoints and eval sprite sheets, for tests of loading, evaluation and the CLI.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encode } from 'fast-png';
import { buildTestModel, randomWeights, perturb, rng, wideShapes, WEIGHT_SHAPES, type BuildOptions, NUM_CLASSES } from './testPair';
import type { ManifestInput } from '../../src/core/bundle/manifest';

export interface BundleFiles {
  files: Map<string, Uint8Array>;
  /** As written to manifest.json (v1, or v2 with `members`). */
  manifest: ManifestInput;
}

/** A fine-tuned member of a v2 test bundle: its own perturbation of the zero-shot weights. */
export interface TestMember {
  id: string;
  name?: string;
  kind?: 'end-to-end' | 'linear-classifier';
  seed?: number;
  description?: string;
  /** Seeds the member's perturbation (default: a different one per member). */
  perturbSeed?: number;
  /** E.g. other head shapes, for a member that does not match the zero-shot model. */
  model?: BuildOptions;
  /** Write recorded sweeps (synthetic numbers, 21 α) for weight and output space. */
  sweeps?: boolean;
  /** The manifest's recommendedAlpha for this member. */
  recommendedAlpha?: { alpha: number; chosenOn: string };
}

/**
 * A recorded sweep in wise-ft's JSON-lines format over the given sets: made-up accuracies that
 * rise on the reference and bend on the shifts, so a test can tell the curve from live points.
 */
export function sweepLines(sets: readonly { id: string; role: string; count: number }[], bend: number): string {
  return (
    Array.from({ length: 21 }, (_, i) => {
      const alpha = Math.round(i * 5) / 100;
      const line: Record<string, number> = { alpha };
      for (const s of sets) {
        const top1 = s.role === 'reference' ? 0.3 + 0.6 * alpha : 0.4 + bend * alpha * (1 - alpha);
        line[`${s.id}:top1`] = Math.round(top1 * 1e4) / 1e4;
        line[`${s.id}:n`] = s.count;
      }
      return JSON.stringify(line);
    }).join('\n') + '\n'
  );
}

export function spritePng(count: number, seed: number, tile = 8, columns = 10): Uint8Array {
  const r = rng(seed);
  const rows = Math.ceil(count / columns);
  const data = new Uint8Array(columns * tile * rows * tile * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
  return encode({ width: columns * tile, height: rows * tile, data, channels: 3, depth: 8 });
}

/**
 * `members` makes a v2 bundle (`wiseft-pair/2`) with those fine-tuned members (the first is the
 * default); without it, a v1 pair whose fine-tuned model is `fineTuned`.
 */
export function makeTestBundle(
  opts: {
    seed?: number;
    sets?: { id: string; role: 'reference' | 'shift'; count: number; classes?: number[] }[];
    fineTuned?: BuildOptions;
    channels?: number;
    members?: TestMember[];
  } = {},
): BundleFiles {
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
  if (!opts.members) files.set('finetuned.onnx', buildTestModel(w1, { shapes, ...opts.fineTuned }));
  const r = rng(seed + 7);
  const evalSets = sets.map((s, k) => {
    const path = `eval/${s.id}.png`;
    files.set(path, spritePng(s.count, seed * 100 + k));
    const pool = s.classes ?? Array.from({ length: NUM_CLASSES }, (_, i) => i);
    return {
      id: s.id,
      name: s.id,
      role: s.role,
      analogue: null,
      description: `random test images (${s.count})`,
      sprite: { path, tile: 8, columns: 10, count: s.count },
      labels: Array.from({ length: s.count }, () => pool[Math.floor(r() * pool.length)]!),
      classes: s.classes ?? null,
    };
  });
  const members = opts.members?.map((m, k) => {
    const path = `members/${m.id}.onnx`;
    files.set(path, buildTestModel(perturb(w0, m.perturbSeed ?? seed + 11 + k), { shapes, ...m.model }));
    let sweeps: { weight: { path: string }; output: { path: string } } | undefined;
    if (m.sweeps) {
      sweeps = { weight: { path: `sweeps/${m.id}.weight.jsonl` }, output: { path: `sweeps/${m.id}.output.jsonl` } };
      files.set(sweeps.weight.path, new TextEncoder().encode(sweepLines(sets, 0.8 + 0.1 * k)));
      files.set(sweeps.output.path, new TextEncoder().encode(sweepLines(sets, 0.5 + 0.1 * k)));
    }
    return {
      id: m.id,
      name: m.name ?? `member ${m.id}`,
      kind: m.kind ?? 'end-to-end',
      ...(m.seed !== undefined ? { seed: m.seed } : {}),
      ...(m.description ? { description: m.description } : {}),
      model: { path },
      ...(sweeps ? { sweeps } : {}),
      ...(m.recommendedAlpha ? { recommendedAlpha: m.recommendedAlpha } : {}),
    };
  });
  const common = {
    name: `test pair ${seed}`,
    description: 'built by the tests',
    io: { image: 'image', embedding: 'embedding', logits: 'logits' },
    logitScale: 10,
    templates: ['a photo of a {}.'],
    classes: ['c0', 'c1', 'c2', 'c3', 'c4'],
    preprocess: { size: 8, resize: 'bicubic', crop: 'center', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], layout: 'NCHW' },
    ...(evalSets.length > 0 ? { eval: { sets: evalSets } } : {}),
  } satisfies Omit<ManifestInput, 'format' | 'models'>;
  const manifest: ManifestInput = members
    ? { format: 'wiseft-pair/2', ...common, models: { zeroShot: { path: 'zeroshot.onnx' }, members } }
    : { format: 'wiseft-pair/1', ...common, models: { zeroShot: { path: 'zeroshot.onnx' }, fineTuned: { path: 'finetuned.onnx' } } };
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

/** The bundle's files written to a fresh temporary folder (for the CLI and dirSource). */
export function writeBundleDir(files: Map<string, Uint8Array>, prefix = 'wiseft-pair-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const [p, b] of files) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), b);
  }
  return dir;
}
