// End-to-end fine-tuning of the bundled image tower (src/core/train/finetune.ts) on the bundled
// reference images: it lowers the loss, is deterministic from its seed, cancels cleanly, refuses bad
// input, and its weights written back into the zero-shot ONNX graph run in onnxruntime to the logits
// the training runtime computes for them. Generated images report their held-out render first.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { ortNode } from '../../src/core/runtime/ort-node';
import { decodeSprite, normalizeBatch, pixelsOf } from '../../src/core/eval/sprites';
import type { Manifest } from '../../src/core/bundle/manifest';
import {
  batchInput,
  fineTune,
  fineTunedModel,
  type FineTuneEvent,
  type FineTuneOptions,
  type ImageSet,
} from '../../src/core/train/finetune';
import { worldTrainingData } from '../../src/core/world/source';
import { Tower, towerParams } from '../../src/core/train/tower';
import { TrainingError, stratifiedSplit } from '../../src/core/train/data';
import { runEndToEnd, type EndToEndEvent } from '../../src/core/train/endToEnd';
import { parseModel, tensorValues } from '../../src/core/onnx/model';

const at = (p: string) => new URL(`../../${p}`, import.meta.url);
const zeroShot = new Uint8Array(readFileSync(at('public/pairs/shapes/zeroshot.onnx')));
const manifest = JSON.parse(readFileSync(at('public/pairs/shapes/manifest.json'), 'utf8')) as Manifest;
const spec = manifest.eval!.sets.find((s) => s.id === 'reference')!;
const set = decodeSprite(spec, readFileSync(at(`public/pairs/shapes/${spec.sprite.path}`)));
const images = (count: number): ImageSet => ({
  pixels: pixelsOf(set).slice(0, count * 32 * 32 * 3),
  labels: set.labels.slice(0, count),
  count,
});
const norm = manifest.preprocess;
/**
 * A fine-tune from the zero-shot head reports its steps and its held-out accuracy passes, no feature pass or probe epochs: the
 * events as one line each, so a test can claim their order (a pass gone silent is a line missing).
 */
function eventLine(p: EndToEndEvent | FineTuneEvent): string {
  if (!('phase' in p)) return `step ${p.step}`;
  if (p.phase === 'held-out-accuracy') return `held-out accuracy after ${p.epoch}: ${p.done}/${p.total}`;
  if (p.phase === 'held-out') return `render ${p.done}/${p.total}`;
  if (p.phase === 'training-render') return `render training ${p.done}/${p.total}`;
  throw new Error(`a plain end-to-end run reported a ${p.phase} event`);
}
const stepsOf = <P extends object>(seen: P[]) => seen.filter((p): p is Exclude<P, { phase: string }> => !('phase' in p));
const quick: FineTuneOptions = { epochs: 1, batchSize: 32, lr: 1e-3, weightDecay: 0.1, warmup: 0, seed: 3, flip: true };

describe('end-to-end fine-tuning of the bundled tower', () => {
  it('lowers the loss on the images it trains on (8 epochs of one batch of 32)', async () => {
    const r = await fineTune(zeroShot, images(32), norm, { ...quick, epochs: 8, flip: false });
    expect(r.steps).toBe(8);
    expect(r.losses[7]!).toBeLessThan(0.8 * r.losses[0]!);
  });

  it('gives the same weights for the same seed, other weights for another', async () => {
    const a = await fineTune(zeroShot, images(64), norm, quick);
    const b = await fineTune(zeroShot, images(64), norm, quick);
    const c = await fineTune(zeroShot, images(64), norm, { ...quick, seed: 4 });
    for (const [name, w] of a.weights) expect(b.weights.get(name), name).toEqual(w);
    expect(c.weights.get('head.weight')).not.toEqual(a.weights.get('head.weight'));
  });

  it('writes every tensor back into the same graph, and onnxruntime computes the tower’s logits from them', async () => {
    const r = await fineTune(zeroShot, images(64), norm, quick);
    const bytes = fineTunedModel(zeroShot, r.weights);
    const before = parseModel(zeroShot, 'zs').graph;
    const after = parseModel(bytes, 'ft').graph;
    const nodes = (g: typeof before) => g.node.map((n) => [n.op_type, [...n.input], [...n.output]]);
    expect(nodes(after)).toEqual(nodes(before));
    expect(after.initializer.map((t) => [t.name, t.dims.map(Number)])).toEqual(before.initializer.map((t) => [t.name, t.dims.map(Number)]));
    for (const t of after.initializer) expect(tensorValues(t) as Float32Array, t.name).toEqual(r.weights.get(t.name));
    const x = normalizeBatch(set, 100, 116, norm);
    const session = await ortNode.InferenceSession.create(bytes);
    const out = await session.run({ [session.inputNames[0]!]: new ortNode.Tensor('float32', x, [16, 3, 32, 32]) });
    const logits = out.logits!.data as Float32Array;
    const tower = new Tower(towerParams(bytes));
    tower.forward(x, set.labels.slice(100, 116), 16);
    const mine = tower.logits();
    let worst = 0;
    logits.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - mine[i]!))));
    expect(worst).toBeLessThan(1e-3);
    await session.release();
  });

  it('decays conv and linear weights only (tools/train.py param_groups): one step with weight decay 0 and 0.5', async () => {
    const once = { ...quick, batchSize: 32, flip: false };
    const a = await fineTune(zeroShot, images(32), norm, { ...once, weightDecay: 0 });
    const b = await fineTune(zeroShot, images(32), norm, { ...once, weightDecay: 0.5 });
    const decayed = [...a.weights.keys()].filter((n) => n.endsWith('.0.weight') || n === 'encoder.proj' || n === 'head.weight');
    expect(decayed).toHaveLength(8);
    for (const [name, w] of a.weights) {
      if (decayed.includes(name)) expect(b.weights.get(name), name).not.toEqual(w);
      else expect(b.weights.get(name), name).toEqual(w);
    }
  });

  it("measures held-out accuracy before training (the zero-shot tower's, counted independently) and at each epoch's end only, reporting each pass", async () => {
    const validation: ImageSet = { pixels: pixelsOf(set).slice(100 * 3072, 140 * 3072), labels: set.labels.slice(100, 140), count: 40 };
    const seen: FineTuneEvent[] = [];
    const r = await fineTune(zeroShot, images(48), norm, { ...quick, epochs: 2, batchSize: 16, validation }, (p) => seen.push(p));
    const tower = new Tower(towerParams(zeroShot));
    const zeroShotCorrect = tower.forward(normalizeBatch(set, 100, 140, norm), set.labels.slice(100, 140), 40).correct;
    expect(r.validation!.initial).toBe(zeroShotCorrect / 40);
    const reported = stepsOf(seen).map((p) => p.validationAccuracy);
    expect(reported.map((v) => v !== null)).toEqual([false, false, true, false, false, true]);
    expect(r.validation!.accuracy).toBe(reported[5]);
    // Each held-out pass reports from 0, a micro-batch of 32 at a time: before the first step, and before an epoch's last step's event.
    const pass = (after: number) => [0, 32, 40].map((done) => `held-out accuracy after ${after}: ${done}/40`);
    expect(seen.map(eventLine)).toEqual([...pass(0), 'step 1', 'step 2', ...pass(1), 'step 3', 'step 4', 'step 5', ...pass(2), 'step 6']);
    // Given the accuracy before training (LP-FT gives the probe's), it skips that pass and trains the same weights.
    const told: FineTuneEvent[] = [];
    const given = await fineTune(
      zeroShot,
      images(48),
      norm,
      { ...quick, epochs: 2, batchSize: 16, validation, initialAccuracy: 0.25 },
      (p) => told.push(p),
    );
    expect(told.map(eventLine)).toEqual(seen.map(eventLine).slice(pass(0).length));
    expect(given.validation).toEqual({ initial: 0.25, accuracy: r.validation!.accuracy });
    for (const [name, w] of r.weights) expect(given.weights.get(name), name).toEqual(w);
  });

  it("runEndToEnd holds out the probe's stratified split and returns a graph of the zero-shot model's shape, with live steps", async () => {
    const data = images(40);
    const split = stratifiedSplit(data.labels, 0.25, 5);
    const seen: EndToEndEvent[] = [];
    const r = await runEndToEnd(zeroShot, data, norm, { epochs: 1, lr: 1e-4, batchSize: 16, seed: 5, validationFraction: 0.25 }, (p) =>
      seen.push(p),
    );
    const steps = stepsOf(seen);
    expect(r.trainCount).toBe(split.train.length);
    expect(r.validation!.n).toBe(split.validation.length);
    expect(steps.map((p) => [p.step, p.steps])).toEqual(
      Array.from({ length: Math.floor(split.train.length / 16) }, (_, i) => [i + 1, Math.floor(split.train.length / 16)]),
    );
    expect(steps.at(-1)!.validation).toEqual({ accuracy: r.validation!.accuracy, n: split.validation.length });
    // The held-out passes (before the first step, at the epoch's end) reach runEndToEnd's listener.
    const held = split.validation.length;
    const lines = seen.map(eventLine);
    expect(lines.slice(0, 2)).toEqual([`held-out accuracy after 0: 0/${held}`, `held-out accuracy after 0: ${held}/${held}`]);
    expect(lines.slice(-3)).toEqual([
      `held-out accuracy after 1: 0/${held}`,
      `held-out accuracy after 1: ${held}/${held}`,
      `step ${steps.length}`,
    ]);
    const names = (b: Uint8Array) => parseModel(b, 'm').graph.initializer.map((t) => t.name);
    expect(names(r.model)).toEqual(names(zeroShot));
  });

  it("runEndToEnd on generated world images: n training images, the world's own held-out draw, zero-shot measured on it", async () => {
    const spec = { kind: 'world', shortcut: 0.98, n: 64, seed: 0 } as const;
    const seen: EndToEndEvent[] = [];
    const r = await runEndToEnd(zeroShot, spec, norm, { epochs: 1, lr: 1e-4, batchSize: 32, seed: 5, validationFraction: 0.25 }, (p) =>
      seen.push(p),
    );
    const { validation } = worldTrainingData(spec);
    expect(r.trainCount).toBe(64);
    // The held-out render (worldHeldOutCount(64): 100 images) reports from 0, every 50 images, before anything else; then the
    // held-out accuracy pass before the first step and at the epoch's end, 32 images at a time, and the training images' one
    // chunk as the first step renders it: no stretch without an event.
    expect(validation.count).toBe(100);
    const accuracyPass = (after: number) => [0, 32, 64, 96, 100].map((done) => `held-out accuracy after ${after}: ${done}/100`);
    const render = [0, 50, 100].map((done) => `render ${done}/100`);
    const trainingRender = [0, 50, 64].map((done) => `render training ${done}/64`);
    expect(seen.map(eventLine)).toEqual([...render, ...accuracyPass(0), ...trainingRender, 'step 1', ...accuracyPass(1), 'step 2']);
    expect(r.validation!.n).toBe(validation.count);
    // The zero-shot tower's accuracy on the held-out draw, counted here independently of fineTune.
    const tower = new Tower(towerParams(zeroShot));
    let correct = 0;
    for (let a = 0; a < validation.count; a += 25) {
      const rows = Int32Array.from({ length: 25 }, (_, i) => a + i);
      const x = new Float32Array(25 * 3 * 32 * 32);
      batchInput(validation, rows, norm, new Array<boolean>(25).fill(false), x);
      correct += tower.forward(x, validation.labels.subarray(a, a + 25), 25).correct;
    }
    expect(r.validation!.initial).toBe(correct / validation.count);
  });

  it('stops between steps when asked, with a message, and returns nothing', async () => {
    let steps = 0;
    const run = fineTune(
      zeroShot,
      images(64),
      norm,
      quick,
      () => steps++,
      () => steps >= 1,
    );
    await expect(run).rejects.toThrow(/cancelled/);
    expect(steps).toBe(1);
  });

  it('refuses labels outside the head and settings that cannot train, naming them', async () => {
    const bad = images(32);
    // One past the bundled world's last class (20 since round 8).
    bad.labels[3] = 20;
    await expect(fineTune(zeroShot, bad, norm, quick)).rejects.toThrow(TrainingError);
    await expect(fineTune(zeroShot, bad, norm, quick)).rejects.toThrow(/label 20/);
    await expect(fineTune(zeroShot, images(32), norm, { ...quick, lr: 0 })).rejects.toThrow(/learning rate/);
    await expect(fineTune(zeroShot, images(32), norm, { ...quick, initialAccuracy: 1.5 })).rejects.toThrow(/before training.*1\.5/);
    await expect(fineTune(new Uint8Array([1, 2, 3]), images(32), norm, quick)).rejects.toThrow();
  });
});
