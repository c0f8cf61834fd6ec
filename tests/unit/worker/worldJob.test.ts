// A world fine-tune job in the Worker without a browser: the explorer is asked for the world's
// images (not a folder), the member names what it was trained on, and a pair whose classes are not
// the world's, or a shortcut outside 0–1, is refused in words before any training.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { runFineTuneJob, type TrainingDeps } from '../../../src/worker/trainingJob';
import { parseManifest } from '../../../src/core/bundle/manifest';
import type { EndToEndProgress, EndToEndSettings } from '../../../src/core/train/endToEnd';
import type { FineTuneJob, TrainingEvent } from '../../../src/worker/protocol';

const PAIR = 'public/pairs/shapes';
const zeroShot = new Uint8Array(readFileSync(`${PAIR}/zeroshot.onnx`));
const classes = parseManifest(readFileSync(`${PAIR}/manifest.json`, 'utf8')).classes;

function deps(asked: unknown[], pairClasses = classes): TrainingDeps {
  return {
    explorer: {
      linearProbe: () => Promise.reject(new Error('not a probe job')),
      async fineTuneEndToEnd(model, images, settings: EndToEndSettings, onProgress: (p: EndToEndProgress) => void) {
        asked.push(images);
        onProgress({ step: 1, steps: 1, epoch: 1, epochs: settings.epochs, loss: 2, validation: { accuracy: 0.6, n: 250 } });
        return { model, trainCount: 1000, validation: { initial: 0.5, accuracy: 0.6, n: 250 }, probeHead: null };
      },
    },
    zeroShot,
    pair: { classes: pairClasses, inputSize: 32 },
    memberId: 'probe-7',
  };
}

const JOB: FineTuneJob = {
  id: 7,
  files: [],
  epochs: 1,
  seed: 0,
  lr: 2e-4,
  batchSize: 128,
  data: { kind: 'world', shortcut: 0.98, n: 1000, seed: 0 },
};

describe('a world fine-tune job', () => {
  it('asks the explorer for generated images and names the shortcut in the member', async () => {
    const asked: unknown[] = [];
    const events: TrainingEvent[] = [];
    const r = await runFineTuneJob(deps(asked), JOB, (e) => void events.push(e), new AbortController().signal);
    expect(asked).toEqual([{ kind: 'world', shortcut: 0.98, n: 1000, seed: 0, classes: 20 }]);
    expect(events).toEqual([
      { kind: 'step', jobId: 7, step: 1, steps: 1, epoch: 1, epochs: 1, loss: 2, validation: { accuracy: 0.6, n: 250 } },
    ]);
    if (r === 'cancelled') throw new Error('not cancelled');
    expect(r.member.spec.name).toBe('Fine-tuned end to end here on 1000 generated images (98% shortcut), 1 epoch, seed 0');
    expect(r.member.spec.description).toContain('Held-out accuracy on 250 more generated images: 50.0% zero-shot → 60.0%');
  });

  it("carries a style mix to the images asked for and into the member's name and description", async () => {
    const asked: unknown[] = [];
    const job = { ...JOB, data: { ...JOB.data!, styleMix: 0.3 } } as FineTuneJob;
    const r = await runFineTuneJob(deps(asked), job, () => {}, new AbortController().signal);
    expect(asked).toEqual([{ kind: 'world', shortcut: 0.98, n: 1000, seed: 0, styleMix: 0.3, classes: 20 }]);
    if (r === 'cancelled') throw new Error('not cancelled');
    expect(r.member.spec.name).toBe('Fine-tuned end to end here on 1000 generated images (98% shortcut, 30% styled), 1 epoch, seed 0');
    expect(r.member.spec.description).toContain('30% of them redrawn as sketch, cartoon, painting, neon or pixel art');
  });

  it('refuses a pair with other classes and a shortcut above 100%, before training', async () => {
    const asked: unknown[] = [];
    const run = (job: FineTuneJob, c = classes) => runFineTuneJob(deps(asked, c), job, () => {}, new AbortController().signal);
    await expect(run(JOB, ['cat', 'dog'])).rejects.toThrow(/bundled world's 20 classes .*Train on a folder instead/);
    // The same classes in another order would train every label on the wrong row of the head.
    await expect(run(JOB, [...classes].reverse())).rejects.toThrow(/Train on a folder instead/);
    await expect(run({ ...JOB, data: { kind: 'world', shortcut: 1.2, n: 1000, seed: 0 } })).rejects.toThrow(/between 0 and 1/);
    expect(asked).toEqual([]);
  });
});
