// A model trained in the page becomes a member like the bundle's own (bundle format 2): the same
// zero-shot graph with new weights, kind 'linear-classifier' (a probe: the head only) or
// 'end-to-end' (every weight). It lives in memory, so the engine loads it through the same
// LoadedBundle as a member read from files.
import type { LoadedBundle } from '../bundle/source';
import type { MemberSpec } from '../bundle/manifest';
import { combineHashes, sha256Hex } from '../util/hash';
import type { FineTuneInit } from './lpft';
import type { ExternalFiles } from '../onnx/external';
import { GB, inlineOnnx } from '../onnx/oneFile';

export interface TrainedMember {
  spec: MemberSpec;
  bytes: Uint8Array;
  sha256: string;
}

export interface TrainedMemberFacts {
  /** Unique among the bundle's members and the ones trained before. */
  id: string;
  seed: number;
  trainCount: number;
  validation: { initial: number; accuracy: number; n: number } | null;
  /** The schedule it was trained with: what a bundle exported with it tells the next reader. */
  recipe: { epochs: number; lr: number; batchSize: number };
  /** End to end: the head it started from (the zero-shot one when absent). */
  init?: FineTuneInit;
}

/** How the member reads in the selector: its kind, its name and what was trained. */
export interface TrainedMemberText {
  kind: 'linear-classifier' | 'end-to-end';
  name: string;
  description: string;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function heldOut(f: TrainedMemberFacts): string {
  const v = f.validation;
  return v ? ` Held-out accuracy on ${v.n} images of the folder: ${pct(v.initial)} zero-shot → ${pct(v.accuracy)}.` : '';
}

function recipe(f: TrainedMemberFacts): string {
  const { epochs, lr, batchSize } = f.recipe;
  return ` Trained on ${f.trainCount} images: ${epochs} epoch${epochs === 1 ? '' : 's'}, learning rate ${lr}, batches of ${batchSize}, seed ${f.seed}.`;
}

/** Where an end-to-end fine-tune started: LP-FT says its first stage and its learning rate (linearProbe.ts PIPELINE_RECIPE). */
function start(f: TrainedMemberFacts): string {
  return f.init === 'linear-probe'
    ? 'from a head first fitted on the frozen zero-shot features (LP-FT: a linear probe, learning rate 0.001, as the bundled end-to-end members were trained)'
    : 'from the zero-shot model';
}

/** A linear probe's text: only the head trained. */
export function probeText(f: TrainedMemberFacts): TrainedMemberText {
  return {
    kind: 'linear-classifier',
    name: `Linear probe trained here on ${f.trainCount} images, seed ${f.seed}`,
    description: `Only the head trained, in the browser, from the zero-shot head, on the images of a dropped folder (the image tower frozen; AdamW).${recipe(f)}${heldOut(f)}`,
  };
}

/**
 * An end-to-end fine-tune on images the world's renderer generated with background shortcut
 * `shortcut` (0–1), a share `styleMix` (0–1) of them in non-photo styles.
 */
export function worldEndToEndText(f: TrainedMemberFacts, epochs: number, shortcut: number, styleMix = 0): TrainedMemberText {
  const v = f.validation;
  const held = v ? ` Held-out accuracy on ${v.n} more generated images: ${pct(v.initial)} zero-shot → ${pct(v.accuracy)}.` : '';
  const share = `${Math.round(100 * shortcut)}%`;
  const mix = Math.round(100 * styleMix);
  const styles =
    mix > 0
      ? ` ${mix}% of them redrawn as sketch, cartoon, painting, neon or pixel art (sketches on white, neon on black, whatever the shortcut said); the held-out images are photos.`
      : '';
  return {
    kind: 'end-to-end',
    name: `Fine-tuned end to end here on ${f.trainCount} generated images (${share} shortcut${mix > 0 ? `, ${mix}% styled` : ''}), ${epochs} epoch${epochs === 1 ? '' : 's'}, seed ${f.seed}`,
    description: `Every weight trained, in this page, ${start(f)}, on reference photos of the bundled world drawn by its renderer, whose background has the class's colour ${share} of the time (AdamW).${styles}${recipe(f)}${held}`,
  };
}

/** An end-to-end fine-tune's text: every weight trained, `epochs` passes over the folder. */
export function endToEndText(f: TrainedMemberFacts, epochs: number): TrainedMemberText {
  return {
    kind: 'end-to-end',
    name: `Fine-tuned end to end here on ${f.trainCount} images, ${epochs} epoch${epochs === 1 ? '' : 's'}, seed ${f.seed}`,
    description: `Every weight trained, in the browser, ${start(f)}, on the images of a dropped folder (AdamW, the pipeline's recipe).${recipe(f)}${heldOut(f)}`,
  };
}

/**
 * The zero-shot checkpoint a job trains from, every weight inline: the head and the tower read
 * their values, which a pair saved with external data keeps in `files`. A member written from it is
 * self-contained. A checkpoint past a single ONNX file's 2 GB is refused: too large to train here.
 */
export async function trainableZeroShot(bytes: Uint8Array, files: ExternalFiles): Promise<Uint8Array> {
  // No data files: the checkpoint loaded, so every weight is already inline (and not parsed again here).
  if (files.size === 0) return bytes;
  const refuse = (n: number) => `the zero-shot model holds ${GB(n)} of weights, more than this page trains (a single ONNX file's 2 GB)`;
  return inlineOnnx(bytes, async () => files, 'zero-shot model', refuse);
}

export async function trainedMember(bytes: Uint8Array, f: TrainedMemberFacts, text: TrainedMemberText): Promise<TrainedMember> {
  const sha256 = await sha256Hex(bytes);
  const spec: MemberSpec = {
    id: f.id,
    ...text,
    seed: f.seed,
    model: { path: `in-memory/${f.id}.onnx`, bytes: bytes.length, sha256 },
  };
  return { spec, bytes, sha256 };
}

/**
 * `bundle` (any member of it) with `t` as its member: the zero-shot model, text tower and eval sets
 * as read, the manifest listing the trained member, no recorded sweeps (none was measured), and a
 * bundle hash of its own, so no result of another member is shown for it.
 */
export async function withTrainedMember(bundle: LoadedBundle, t: TrainedMember): Promise<LoadedBundle> {
  const m = bundle.manifest;
  const members = [...m.models.members.filter((x) => x.id !== t.spec.id), t.spec];
  return {
    ...bundle,
    manifest: { ...m, models: { ...m.models, members } },
    member: t.spec,
    fineTuned: t.bytes,
    // Written from the zero-shot model's bytes: any tensor it keeps outside lies in the zero-shot's data files.
    fineTunedExternal: bundle.zeroShotExternal,
    sweeps: { weight: null, output: null },
    memberNote: null,
    bundleHash: await combineHashes([bundle.bundleHash, `member:${t.spec.id}`, t.sha256]),
  };
}
