// What the "against the pipeline" benches share (bench/worldRecipe.ts, bench/probeRecipe.ts): the
// bundled pair's shipped test sets, each image's correctness through a model, and the paired
// bootstrap interval of a difference in accuracy. Nothing here chooses anything.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { EvalSetSpec, Manifest } from '../src/core/bundle/manifest';
import { decodeSprite, normalizeBatch, type EvalSetData } from '../src/core/eval/sprites';
import { Tower, towerParams } from '../src/core/train/tower';
import { seededRandom } from '../src/core/train/data';

export const PAIR = 'public/pairs/shapes';
export const manifest = JSON.parse(readFileSync(`${PAIR}/manifest.json`, 'utf8')) as Manifest;
/** The bundled world's class count, for the renderer: its labels index the pair's classes (10, or 20 for the 20-class world). */
export const worldClasses: 10 | 20 = manifest.classes.length === 20 ? 20 : 10;

export const arg = (name: string, d: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d);

export const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

export const readPairFile = (path: string) => new Uint8Array(readFileSync(`${PAIR}/${path}`));

export interface TestSet {
  spec: EvalSetSpec;
  data: EvalSetData;
}

/** The shipped test sets of the bundled pair, decoded. */
export function testSets(): TestSet[] {
  return manifest.eval!.sets.map((spec) => ({ spec, data: decodeSprite(spec, readFileSync(`${PAIR}/${spec.sprite.path}`)) }));
}

/** Per image of `set`, whether the tower in `model` gets it right. */
export function correctness(model: Uint8Array, set: EvalSetData): Uint8Array {
  const tower = new Tower(towerParams(model));
  const right = new Uint8Array(set.count);
  for (let a = 0; a < set.count; a += 50) {
    const b = Math.min(set.count, a + 50);
    tower.forward(normalizeBatch(set, a, b, manifest.preprocess), set.labels.slice(a, b), b - a);
    const logits = tower.logits();
    const k = logits.length / (b - a);
    for (let i = 0; i < b - a; i++) {
      const row = logits.subarray(i * k, (i + 1) * k);
      right[a + i] = row.indexOf(Math.max(...row)) === set.labels[a + i] ? 1 : 0;
    }
  }
  return right;
}

export const mean = (x: Uint8Array) => x.reduce((s, v) => s + v, 0) / x.length;

/** 95% paired bootstrap interval (2,000 resamples of the images of each set) of the mean over `sets` of (a − b). */
export function pairedBootstrap(a: Uint8Array[], b: Uint8Array[]): [number, number] {
  const random = seededRandom(17);
  const stats: number[] = [];
  for (let r = 0; r < 2000; r++) {
    let total = 0;
    a.forEach((x, s) => {
      let d = 0;
      for (let i = 0; i < x.length; i++) {
        const j = Math.floor(random() * x.length);
        d += x[j]! - b[s]![j]!;
      }
      total += d / x.length;
    });
    stats.push(total / a.length);
  }
  stats.sort((x, y) => x - y);
  return [stats[49]!, stats[1949]!];
}

const fmt = (d: number, [lo, hi]: [number, number]) => `${(100 * d).toFixed(1)} pp [${(100 * lo).toFixed(1)}, ${(100 * hi).toFixed(1)}]`;

export const accuracies = (sets: TestSet[], right: Uint8Array[]) =>
  sets.map((s, i) => `${s.spec.id} ${(100 * mean(right[i]!)).toFixed(1)}%`).join(', ');

/**
 * One line against a pipeline member: its accuracy on each set, then page − pipeline on the
 * reference set and on the mean of the shift sets, each with its paired bootstrap interval.
 */
export function compareLine(id: string, sets: TestSet[], ours: Uint8Array[], theirs: Uint8Array[]): string {
  const shift = sets.map((_, i) => i).filter((i) => sets[i]!.spec.role === 'shift');
  const ref = sets.findIndex((s) => s.spec.role === 'reference');
  const dRef = mean(ours[ref]!) - mean(theirs[ref]!);
  const dShift = shift.reduce((s, i) => s + mean(ours[i]!) - mean(theirs[i]!), 0) / shift.length;
  const shiftInterval = pairedBootstrap(
    shift.map((i) => ours[i]!),
    shift.map((i) => theirs[i]!),
  );
  return (
    `${id}: ${accuracies(sets, theirs)}; page − pipeline: reference ${fmt(dRef, pairedBootstrap([ours[ref]!], [theirs[ref]!]))}, ` +
    `mean of shifts ${fmt(dShift, shiftInterval)}`
  );
}
