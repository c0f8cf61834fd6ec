// How long the fine-tune panel goes without news (issue 17: the in-page fine-tune shows what it is
// doing, k of n): one LP-FT job on generated world images, run by runEndToEnd as the Worker runs
// it, each progress event timed. Prints each pass over the held-out images (their render, LP-FT's
// features of them, the tower's accuracy on them after each epoch; LP-FT makes none before the
// first step), the training chunks' renders, the feature batches and the steps, each with its
// events and span, and the longest gap between two events anywhere in the job. A step is one
// event: the longest gap is at least a step's time (a batch forward and backward). Measures; it
// chooses nothing.
//
//   nice -n 19 npx tsx bench/trainingSilence.ts [--n=2000] [--epochs=1]
import { loadBundle } from '../src/core/bundle/source';
import { BlendEngine } from '../src/core/runtime/engine';
import { ortNode } from '../src/core/runtime/ort-node';
import { dirSource } from '../src/node/dirSource';
import { runEndToEnd, type EndToEndEvent } from '../src/core/train/endToEnd';
import { PIPELINE_FINETUNE } from '../src/core/train/finetune';
import { arg, load, PAIR, worldClasses } from './recipeCheck';

interface Timed {
  at: number;
  what: string;
}

const what = (p: EndToEndEvent) =>
  !('phase' in p) ? 'step' : p.phase === 'held-out-accuracy' ? `${p.phase} after epoch ${p.epoch}` : p.phase;

/** Each kind of event's count and span, and the longest gap between two events, in words. */
function report(events: Timed[]): string[] {
  const spans = new Map<string, { from: number; to: number; count: number }>();
  let gap = { ms: 0, between: '' };
  events.forEach((e, i) => {
    const s = spans.get(e.what) ?? { from: e.at, to: e.at, count: 0 };
    spans.set(e.what, { from: s.from, to: e.at, count: s.count + 1 });
    const before = events[i - 1];
    if (before && e.at - before.at > gap.ms) gap = { ms: e.at - before.at, between: `${before.what} → ${e.what}` };
  });
  const lines = [...spans].map(([k, s]) => `${k}: ${s.count} events over ${((s.to - s.from) / 1000).toFixed(2)} s`);
  return [...lines, `longest gap between two events: ${(gap.ms / 1000).toFixed(2)} s (${gap.between})`];
}

async function main(): Promise<void> {
  const n = arg('n', 2000);
  const epochs = arg('epochs', 1);
  const bundle = await loadBundle(dirSource(PAIR));
  const m = bundle.manifest;
  const engine = await BlendEngine.create(bundle.zeroShot, bundle.fineTuned, { ort: ortNode, backend: 'cpu', inputName: m.io.image });
  const pass = { engine, options: { preprocess: m.preprocess, embedding: m.io.embedding } };
  const spec = { kind: 'world', shortcut: 0.98, n, seed: 0, classes: worldClasses } as const;
  const settings = { epochs, lr: PIPELINE_FINETUNE.lr, batchSize: PIPELINE_FINETUNE.batchSize, seed: 0, validationFraction: 0 };
  console.log(`load average ${load()}; LP-FT on ${n} generated images (98% shortcut), ${epochs} epoch(s), batch ${settings.batchSize}`);
  const events: Timed[] = [];
  const t0 = performance.now();
  const record = (p: EndToEndEvent) => void events.push({ at: performance.now() - t0, what: what(p) });
  await runEndToEnd(bundle.zeroShot, spec, m.preprocess, { ...settings, init: 'linear-probe' }, record, undefined, pass);
  for (const line of report(events)) console.log(line);
  console.log(`whole job ${((performance.now() - t0) / 1000).toFixed(1)} s; load average ${load()}`);
  await engine.dispose();
}

void main();
