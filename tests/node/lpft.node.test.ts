// LP-FT in the page (core/train/lpft.ts through runEndToEnd, the bundled members' recipe) on the
// bundled pair in Node, a short schedule on images the world's renderer generates: stage 1 is the
// page's linear probe (the same head, bit for bit, as trainLinearProbe on zeroShotFeatures of the
// same images), stage 2 fine-tunes every weight from that head (the same weights, bit for bit, as
// fineTune from the probe's head written into the zero-shot model), the feature pass and the probe
// report progress, and a cancel in stage 1 ends the run with nothing returned.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { loadBundle } from '../../src/core/bundle/source';
import { BlendEngine } from '../../src/core/runtime/engine';
import { ortNode } from '../../src/core/runtime/ort-node';
import { dirSource } from '../../src/node/dirSource';
import type { Manifest } from '../../src/core/bundle/manifest';
import { runEndToEnd, type EndToEndEvent, type EndToEndSettings } from '../../src/core/train/endToEnd';
import { fineTune, fineTunedModel, PIPELINE_FINETUNE } from '../../src/core/train/finetune';
import { zeroShotFeatures } from '../../src/core/train/features';
import { readHead, writeHead } from '../../src/core/train/head';
import { PIPELINE_RECIPE, trainLinearProbe } from '../../src/core/train/linearProbe';
import type { FeaturePass } from '../../src/core/train/lpft';
import { RENDER_CHUNK } from '../../src/core/world/render';
import { worldTrainingData, type WorldTrainingSpec } from '../../src/core/world/source';

const DIR = 'public/pairs/shapes';
let zeroShot: Uint8Array;
let manifest: Manifest;
let engine: BlendEngine;
let pass: FeaturePass;
let spec: WorldTrainingSpec;

beforeAll(async () => {
  const bundle = await loadBundle(dirSource(DIR));
  ({ zeroShot, manifest } = bundle);
  engine = await BlendEngine.create(bundle.zeroShot, bundle.fineTuned, { ort: ortNode, backend: 'cpu', inputName: manifest.io.image });
  pass = { engine, options: { preprocess: manifest.preprocess, embedding: manifest.io.embedding } };
  // More images than a render chunk, so the feature pass crosses a chunk's edge.
  spec = { kind: 'world', shortcut: 0.8, n: RENDER_CHUNK + 76, seed: 0, classes: manifest.classes.length === 20 ? 20 : 10 };
}, 120_000);

afterAll(async () => {
  await engine?.dispose();
});

const settings: EndToEndSettings = {
  epochs: 1,
  lr: PIPELINE_FINETUNE.lr,
  batchSize: 128,
  seed: 2,
  validationFraction: 0,
  init: 'linear-probe',
};

describe('LP-FT on the bundled pair', () => {
  it("fits the page's linear probe first, then fine-tunes every weight from that head, reporting both stages", async () => {
    const seen: EndToEndEvent[] = [];
    const r = await runEndToEnd(zeroShot, spec, manifest.preprocess, settings, (p) => seen.push(p), undefined, pass);
    // Stage 1 by hand: every training image rendered at once, its features, the probe with the pipeline's recipe.
    const { train, validation } = worldTrainingData(spec);
    const all = train.batch(Int32Array.from({ length: train.count }, (_, i) => i)).data;
    const features = await zeroShotFeatures(engine, all.pixels, all.count, pass.options);
    const heldFeatures = await zeroShotFeatures(engine, validation.pixels, validation.count, pass.options);
    const recipe = {
      ...PIPELINE_RECIPE,
      epochs: 1,
      batchSize: 128,
      seed: 2,
      validation: { features: heldFeatures, labels: validation.labels },
    };
    const probe = await trainLinearProbe(features, train.labels, readHead(zeroShot), recipe);
    expect(r.probeHead).toEqual(probe.head);
    expect(r.probeHead!.weight).not.toEqual(readHead(zeroShot).weight);
    // Stage 2 by hand, from that head: the same weights, so the run started from it (not from the zero-shot head).
    const options = { ...PIPELINE_FINETUNE, epochs: 1, seed: 2 };
    const fromProbe = await fineTune(writeHead(zeroShot, probe.head), train, manifest.preprocess, options);
    expect(Buffer.from(r.model).equals(Buffer.from(fineTunedModel(zeroShot, fromProbe.weights)))).toBe(true);
    // The held-out "before" is the zero-shot head's, not the probe's: the probe's own first number, measured once.
    expect(r.validation!.initial).toBe(probe.initialValidationAccuracy);
    expect(r.validation!.n).toBe(validation.count);
    const phases = seen.map((p) => ('phase' in p ? p.phase : 'step'));
    expect(phases.indexOf('epoch')).toBeGreaterThan(phases.lastIndexOf('features'));
    expect(phases.indexOf('step')).toBeGreaterThan(phases.lastIndexOf('epoch'));
    const featureEvents = seen.filter((p) => 'phase' in p && p.phase === 'features') as { done: number; total: number }[];
    expect(featureEvents.at(-1)).toEqual({ phase: 'features', done: spec.n, total: spec.n });
    expect(featureEvents.map((p) => p.done)).toEqual([...featureEvents.map((p) => p.done)].sort((a, b) => a - b));
    expect(phases.filter((p) => p === 'step')).toHaveLength(Math.floor(spec.n / 128));
    // No pass over the held-out images is silent: their features (between the training features and the probe's first epoch) and
    // the tower's accuracy at the epoch's end (before its last step's event) each report from 0 to every held-out image. Stage 2
    // makes no pass before its first step: the "before" it would measure is the probe's head's, and the one shown is the probe's.
    const at = (phase: string, after?: number) =>
      seen.flatMap((p, i) =>
        'phase' in p && p.phase === phase && (after === undefined || ('epoch' in p && p.epoch === after)) ? [i] : [],
      );
    const steps = seen.flatMap((p, i) => ('phase' in p ? [] : [i]));
    const span = (events: number[]) => {
      const done = events.map((i) => (seen[i] as { done: number; total: number }).done);
      return { from: events[0]!, to: events.at(-1)!, done: [done[0], done.at(-1)] };
    };
    // Each training chunk's render (1,024 and 76 images) reports from 0, every 50, before the feature batches that read it.
    const renders = at('training-render');
    const chunk = (total: number) => [...Array.from({ length: Math.floor(total / 50) + 1 }, (_, i) => i * 50), total];
    expect(span(renders).done).toEqual([0, 76]);
    expect(renders.map((i) => (seen[i] as { done: number }).done)).toEqual([...chunk(RENDER_CHUNK), ...chunk(76)]);
    expect([renders[0]! > phases.lastIndexOf('held-out'), renders[0]! < phases.indexOf('features')]).toEqual([true, true]);
    expect(renders.at(-1)! < phases.lastIndexOf('features')).toBe(true);
    const featurePass = span(at('held-out-features'));
    expect(featurePass.done).toEqual([0, validation.count]);
    expect([featurePass.from > phases.lastIndexOf('features'), featurePass.to < phases.indexOf('epoch')]).toEqual([true, true]);
    expect(at('held-out-accuracy', 0)).toEqual([]);
    expect(steps[0]).toBe(phases.lastIndexOf('epoch') + 1);
    const after = span(at('held-out-accuracy', 1));
    expect(after.done).toEqual([0, validation.count]);
    expect([after.from > steps.at(-2)!, after.to < steps.at(-1)!]).toEqual([true, true]);
  }, 300_000);

  it('cancelled during the probe, it rejects with the reason and returns no model', async () => {
    const ctl = new AbortController();
    const onProgress = (p: EndToEndEvent) => {
      if ('phase' in p && p.phase === 'epoch') ctl.abort(new Error('cancelled by the user'));
      if (!('phase' in p)) throw new Error('a step ran after the cancel');
    };
    await expect(
      runEndToEnd(zeroShot, spec, manifest.preprocess, { ...settings, epochs: 2 }, onProgress, ctl.signal, pass),
    ).rejects.toThrow('cancelled by the user');
  }, 300_000);

  it('refuses LP-FT without a feature pass, in words', async () => {
    await expect(runEndToEnd(zeroShot, spec, manifest.preprocess, settings, () => undefined)).rejects.toThrow(/feature pass/);
  });
});
