// The engine soups blend: every member of the bundle (zero-shot first) in one K-member BlendEngine,
// opened on the first soup request. The zero-shot weights come from the pair's engine (θ(0) is
// zero-shot bit for bit), the fine-tuned members from their checkpoints (cache or files).
import type { Manifest, MemberSpec } from '../bundle/manifest';
import type { EvalSetData } from '../eval/sprites';
import { FrontierEvaluator } from '../eval/evaluator';
import { BlendEngine, type EngineOptions } from '../runtime/engine';
import type { SoupSource } from './soups';

/** Opens the K-member engine; one member that fails the pair check names itself in the error. */
export async function openSoupEngine(
  pairEngine: BlendEngine,
  manifest: Manifest,
  readMember: (m: MemberSpec) => Promise<Uint8Array>,
  opts: Omit<EngineOptions, 'inputName' | 'labels'>,
): Promise<BlendEngine> {
  const members = manifest.models.members;
  if (members.length < 2) throw new RangeError(`a soup needs at least two fine-tuned members; this bundle has ${members.length}`);
  const zeroShot = await pairEngine.exportOnnx(0);
  const fineTuned: Uint8Array[] = [];
  // One at a time: each download or file read is checked against the manifest before the next.
  for (const m of members) fineTuned.push(await readMember(m));
  return BlendEngine.createWithMembers(zeroShot, fineTuned, {
    ...opts,
    inputName: manifest.io.image,
    labels: [manifest.models.zeroShot.path, ...members.map((m) => m.model.path)],
  });
}

/** The members Model Stock averages: the end-to-end ones when there are two or more, else all. */
export function stockMembers(members: readonly Pick<MemberSpec, 'kind'>[]): number[] {
  const e2e = members.flatMap((m, i) => (m.kind === 'end-to-end' ? [i + 1] : []));
  return e2e.length >= 2 ? e2e : members.map((_, i) => i + 1);
}

/** What SoupSettings needs of the K-member engine, for the eval sets in use. */
export function soupSource(engine: BlendEngine, manifest: Manifest, sets: readonly EvalSetData[]): SoupSource {
  const reference = sets.find((s) => s.spec.role === 'reference') ?? sets[0];
  if (!reference) throw new RangeError('soups need at least one eval set');
  return {
    members: engine.info.members,
    referenceSet: reference.spec.id,
    groups: engine.info.layerGroups.map((g) => ({ id: g.id, tensors: g.tensors })),
    stockMembers: stockMembers(manifest.models.members),
    make: (c) =>
      // The evaluator's α is the soup's slot, a label: the blend is always the soup's.
      new FrontierEvaluator(async (_slot, input) => (await engine.run(c, input))[manifest.io.logits]!.data, sets, {
        classes: manifest.classes.length,
        preprocess: manifest.preprocess,
        // ECE and NLL per soup (their sums, no logits): `wiseft eval --soups --calibration`.
        calibrationBudget: 0,
      }),
    weightsOf: async (k) => {
      const w = await engine.memberWeights(k);
      return (name) => {
        const t = w.get(name);
        if (!t) throw new Error(`member ${k} has no weight '${name}'`);
        return t.values;
      };
    },
  };
}
