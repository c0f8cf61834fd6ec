// Layer groups from names and graph order: the bundled pair's CNN and a CLIP ViT's naming.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseModel, listInitializers } from '../../../../src/core/onnx/model';
import { layerGroups, tensorDepths, groupCoefficients, type TensorPlace } from '../../../../src/core/blend/groups';
import { coefficientMatrix } from '../../../../src/core/blend/coefficients';

describe('layer groups of the bundled pair (public/pairs/shapes)', () => {
  const model = parseModel(new Uint8Array(readFileSync('public/pairs/shapes/zeroshot.onnx')), 'zeroshot.onnx');
  const names = listInitializers(model).map((t) => t.name);
  const groups = layerGroups(tensorDepths(model.graph, names));

  it('has one group per conv block, then the projection, then the head, in graph order', () => {
    expect(groups.map((g) => g.id)).toEqual([
      'encoder.features.0',
      'encoder.features.1',
      'encoder.features.2',
      'encoder.features.3',
      'encoder.features.4',
      'encoder.features.5',
      'encoder.proj',
      'head',
    ]);
    expect(groups[0]!.tensors).toEqual(['encoder.features.0.0.weight', 'encoder.features.0.1.weight', 'encoder.features.0.1.bias']);
    expect(groups.at(-1)!.tensors.sort()).toEqual(['head.bias', 'head.weight']);
  });

  it('puts every initializer in exactly one group', () => {
    const all = groups.flatMap((g) => g.tensors);
    expect(all.sort()).toEqual([...names].sort());
  });
});

/** A ViT-B/16-like image tower as open_clip exports it, in graph order, with two made-up exporter names. */
function clipLike(): TensorPlace[] {
  const names = [
    'visual.class_embedding',
    'visual.positional_embedding',
    'visual.conv1.weight',
    'visual.ln_pre.weight',
    'visual.ln_pre.bias',
  ];
  for (let b = 0; b < 3; b++) {
    for (const p of ['ln_1.weight', 'ln_1.bias', 'attn.in_proj_weight', 'attn.in_proj_bias', 'attn.out_proj.weight', 'mlp.c_fc.weight'])
      names.push(`visual.transformer.resblocks.${b}.${p}`);
  }
  names.push('visual.ln_post.weight', 'visual.ln_post.bias', 'visual.proj', 'classification_head.weight', 'classification_head.bias');
  const places: TensorPlace[] = names.map((name, depth) => ({ name, depth: depth * 2 }));
  // A transposed weight the exporter renamed: only its consumer's scope says it is block 1's.
  places.push({
    name: 'onnx::MatMul_4242',
    depth: 2 * names.indexOf('visual.transformer.resblocks.1.attn.out_proj.weight') + 1,
    scope: '/visual/transformer/resblocks.1/mlp/c_proj/MatMul',
  });
  return places;
}

describe('layer groups of a CLIP-like naming', () => {
  const groups = layerGroups(clipLike());

  it('makes the stem, each residual block, the tower end and the head their own groups, by depth', () => {
    expect(groups.map((g) => g.id)).toEqual([
      'visual',
      'visual.transformer.resblocks.0',
      'visual.transformer.resblocks.1',
      'visual.transformer.resblocks.2',
      'visual#2',
      'classification_head',
    ]);
    expect(groups[0]!.tensors).toContain('visual.conv1.weight');
    expect(groups[4]!.tensors).toEqual(['visual.ln_post.weight', 'visual.ln_post.bias', 'visual.proj']);
  });

  it('places an exporter-named tensor by the scope of the node that reads it', () => {
    expect(groups[2]!.tensors).toContain('onnx::MatMul_4242');
  });

  it('orders by depth, not by the order names are listed in', () => {
    const shuffled = [...clipLike()].reverse();
    expect(layerGroups(shuffled)).toEqual(groups);
  });
});

describe('groupCoefficients', () => {
  const groups = layerGroups(clipLike());
  const names = groups.flatMap((g) => g.tensors);

  it('with every group at α gives every tensor the rows of the uniform α, bit for bit', () => {
    for (const a of [0, 0.3, 0.37, 1, -0.5, 1.5]) {
      const per = coefficientMatrix(
        groupCoefficients(
          groups,
          groups.map(() => a),
        ),
        names,
        2,
      );
      expect(per).toEqual(coefficientMatrix({ alpha: a }, names, 2));
    }
  });

  it("gives each group's tensors that group's α", () => {
    const alphas = groups.map((_, i) => i / 10);
    const m = coefficientMatrix(groupCoefficients(groups, alphas), names, 2);
    const row = names.indexOf('visual.transformer.resblocks.2.ln_1.bias');
    expect([m[2 * row], m[2 * row + 1]]).toEqual([1 - 0.3, 0.3]);
  });

  it('refuses a count of α that is not one per group', () => {
    expect(() => groupCoefficients(groups, [0.5])).toThrow(/1 α for 6 layer groups/);
  });
});
