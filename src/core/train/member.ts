// A probe trained in the page becomes a member like the bundle's own (bundle format 2): the same
// zero-shot model, a checkpoint that differs in the head only, kind 'linear-classifier'. It lives in
// memory, so the engine loads it through the same LoadedBundle as a member read from files.
import type { LoadedBundle } from '../bundle/source';
import type { MemberSpec } from '../bundle/manifest';
import { combineHashes, sha256Hex } from '../util/hash';

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
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export async function trainedMember(bytes: Uint8Array, f: TrainedMemberFacts): Promise<TrainedMember> {
  const v = f.validation;
  const held = v ? ` Held-out accuracy on ${v.n} images of the folder: ${pct(v.initial)} zero-shot → ${pct(v.accuracy)}.` : '';
  const sha256 = await sha256Hex(bytes);
  const spec: MemberSpec = {
    id: f.id,
    name: `Linear probe trained here on ${f.trainCount} images, seed ${f.seed}`,
    kind: 'linear-classifier',
    seed: f.seed,
    description: `Only the head trained, in this page, from the zero-shot head, on the images of your folder (the image tower frozen); kept in memory until the pair changes.${held}`,
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
