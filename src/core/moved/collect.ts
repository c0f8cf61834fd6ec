// Gathers the weights the "what fine-tuning moved" report needs: θ₀ and the loaded member's θ₁
// from the engine (already in memory), every other member from its checkpoint file, read once.
import type { Manifest, MemberSpec } from '../bundle/manifest';
import type { BlendEngine } from '../runtime/engine';
import { parseModel } from '../onnx/model';
import { floatWeights, MovedAccumulator, type MovedReport } from './moved';

/** The two members whose deltas are compared: the first two end-to-end ones, else the first two. */
export function comparedMembers(members: readonly Pick<MemberSpec, 'kind'>[]): [number, number] | null {
  const e2e = members.flatMap((m, i) => (m.kind === 'end-to-end' ? [i] : []));
  if (e2e.length >= 2) return [e2e[0]!, e2e[1]!];
  return members.length >= 2 ? [0, 1] : null;
}

/**
 * The report over every member of the bundle, in manifest order. Members other than the loaded
 * one are parsed from `readMember`'s bytes, one at a time: besides the engine, at most θ₀, the
 * member being added and one compared member are held (three checkpoints, for any K).
 */
export async function collectMoved(
  engine: BlendEngine,
  manifest: Manifest,
  loaded: MemberSpec,
  readMember: (m: MemberSpec) => Promise<Uint8Array>,
): Promise<MovedReport> {
  const members = manifest.models.members;
  const acc = new MovedAccumulator(await engine.memberWeights(0), members, comparedMembers(members));
  for (const [k, spec] of members.entries()) {
    acc.add(k, spec.id === loaded.id ? await engine.memberWeights(1) : floatWeights(parseModel(await readMember(spec), spec.model.path)));
  }
  return acc.report();
}
