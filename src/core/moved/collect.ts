// Gathers the weights the "what fine-tuning moved" report needs: θ₀ and the loaded member's θ₁
// from the engine (already in memory), every other member from its checkpoint file, read once.
import type { Manifest, MemberSpec } from '../bundle/manifest';
import type { BlendEngine } from '../runtime/engine';
import { parseModel } from '../onnx/model';
import { floatWeights, movedReport, type MovedMember, type MovedReport } from './moved';

/** The two members whose deltas are compared: the first two end-to-end ones, else the first two. */
export function comparedMembers(members: readonly Pick<MemberSpec, 'kind'>[]): [number, number] | null {
  const e2e = members.flatMap((m, i) => (m.kind === 'end-to-end' ? [i] : []));
  if (e2e.length >= 2) return [e2e[0]!, e2e[1]!];
  return members.length >= 2 ? [0, 1] : null;
}

/**
 * The report over every member of the bundle, in manifest order. Members other than the loaded
 * one are parsed from `readMember`'s bytes; all members' weights are held at once (for the bundled
 * pair a few MB; a CLIP bundle of K members needs K + 1 checkpoints of memory while it runs).
 */
export async function collectMoved(
  engine: BlendEngine,
  manifest: Manifest,
  loaded: MemberSpec,
  readMember: (m: MemberSpec) => Promise<Uint8Array>,
): Promise<MovedReport> {
  const zeroShot = await engine.memberWeights(0);
  const members: MovedMember[] = [];
  for (const spec of manifest.models.members) {
    const weights =
      spec.id === loaded.id ? await engine.memberWeights(1) : floatWeights(parseModel(await readMember(spec), spec.model.path));
    members.push({ id: spec.id, name: spec.name, weights });
  }
  return movedReport(zeroShot, members, comparedMembers(manifest.models.members));
}
