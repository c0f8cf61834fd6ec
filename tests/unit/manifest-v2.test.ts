// The v2 manifest (several fine-tuned members) and the v1 one normalised to the same shape.
import { describe, it, expect } from 'vitest';
import {
  parseManifest,
  selectMember,
  ManifestError,
  UnknownMemberError,
  V1_MEMBER_ID,
  type ManifestInput,
} from '../../src/core/bundle/manifest';
import { makeTestBundle } from '../support/testBundle';

const v1 = (): ManifestInput => makeTestBundle({ sets: [] }).manifest;
const v2 = (): ManifestInput & { format: 'wiseft-pair/2' } => {
  const m = makeTestBundle({
    sets: [],
    members: [
      { id: 'e2e-seed0', kind: 'end-to-end', seed: 0, description: 'end to end', sweeps: true },
      { id: 'lp.seed1', kind: 'linear-classifier', seed: 1 },
    ],
  }).manifest;
  if (m.format !== 'wiseft-pair/2') throw new Error('expected a v2 manifest');
  return m;
};
const parse = (m: unknown) => parseManifest(JSON.stringify(m));

describe('manifest v2', () => {
  it('parses members, kinds, seeds, descriptions and sweep files', () => {
    const m = parse(v2());
    expect(m.format).toBe('wiseft-pair/2');
    expect(m.models.zeroShot.path).toBe('zeroshot.onnx');
    expect(m.models.members.map((x) => [x.id, x.kind, x.seed])).toEqual([
      ['e2e-seed0', 'end-to-end', 0],
      ['lp.seed1', 'linear-classifier', 1],
    ]);
    expect(m.models.members[0]!.description).toBe('end to end');
    expect(m.models.members[0]!.sweeps).toEqual({
      weight: { path: 'sweeps/e2e-seed0.weight.jsonl' },
      output: { path: 'sweeps/e2e-seed0.output.jsonl' },
    });
    expect(m.models.members[1]!.sweeps).toBeUndefined();
  });

  it('the first member is the default; an unknown id names the members there are', () => {
    const m = parse(v2());
    expect(selectMember(m, null).id).toBe('e2e-seed0');
    expect(selectMember(m, 'lp.seed1').id).toBe('lp.seed1');
    expect(() => selectMember(m, 'nope')).toThrow(UnknownMemberError);
    expect(() => selectMember(m, 'nope')).toThrow("this bundle has no member 'nope' (its members: e2e-seed0, lp.seed1)");
  });

  it('refuses duplicate member ids, naming the id', () => {
    const m = v2();
    m.models.members[1]!.id = 'e2e-seed0';
    expect(() => parse(m)).toThrow(ManifestError);
    expect(() => parse(m)).toThrow("models.members.1.id: duplicate member id 'e2e-seed0'");
  });

  it('refuses bad ids, an empty member list, an unknown kind and a fractional seed, naming the field', () => {
    for (const [edit, field] of [
      [
        (m: ReturnType<typeof v2>) => {
          m.models.members[0]!.id = 'Upper';
        },
        'models.members.0.id',
      ],
      [
        (m: ReturnType<typeof v2>) => {
          m.models.members[0]!.id = '-dash';
        },
        'models.members.0.id',
      ],
      [
        (m: ReturnType<typeof v2>) => {
          m.models.members[0]!.id = 'a'.repeat(65);
        },
        'models.members.0.id',
      ],
      [
        (m: ReturnType<typeof v2>) => {
          m.models.members = [];
        },
        'models.members',
      ],
      [
        (m: ReturnType<typeof v2>) => {
          (m.models.members[1] as { kind: string }).kind = 'lora';
        },
        'models.members.1.kind',
      ],
      [
        (m: ReturnType<typeof v2>) => {
          m.models.members[1]!.seed = 0.5;
        },
        'models.members.1.seed',
      ],
    ] as const) {
      const m = v2();
      edit(m);
      expect(() => parse(m), field).toThrow(new RegExp(`${field.replace(/\./g, '\\.')}: `));
    }
  });

  it('applies the path rules to member and sweep paths', () => {
    for (const bad of ['../x.onnx', '/etc/passwd', 'https://evil/x.onnx', 'a/%2e%2e/x']) {
      const m = v2();
      m.models.members[1]!.model.path = bad;
      expect(() => parse(m)).toThrow('models.members.1.model.path: must be a relative path inside the bundle');
      const s = v2();
      s.models.members[0]!.sweeps!.output!.path = bad;
      expect(() => parse(s)).toThrow('models.members.0.sweeps.output.path: must be a relative path inside the bundle');
    }
  });

  it('reads a recommended α strictly inside (0, 1) on the 0.01 grid with what it was chosen on, and names the field otherwise', () => {
    const m = v2();
    m.models.members[0]!.recommendedAlpha = { alpha: 0.6, chosenOn: 'validation draw (seed 101)' };
    const parsed = parse(m);
    expect(parsed.models.members[0]!.recommendedAlpha).toEqual({ alpha: 0.6, chosenOn: 'validation draw (seed 101)' });
    expect(parsed.models.members[1]!.recommendedAlpha).toBeUndefined();
    for (const alpha of [0.29, 0.01, 0.99]) {
      m.models.members[0]!.recommendedAlpha = { alpha, chosenOn: 'validation' };
      expect(parse(m).models.members[0]!.recommendedAlpha!.alpha).toBe(alpha);
    }
    for (const [alpha, message] of [
      [0, 'expected number to be >0'],
      [1, 'expected number to be <1'],
      [-0.2, 'expected number to be >0'],
      [0.605, 'on the 0.01 grid'],
    ] as const) {
      m.models.members[0]!.recommendedAlpha = { alpha, chosenOn: 'validation' };
      expect(() => parse(m)).toThrow(new RegExp(`models\\.members\\.0\\.recommendedAlpha\\.alpha: .*${message}`));
    }
    for (const chosenOn of ['', '   ', 'x'.repeat(241)]) {
      m.models.members[0]!.recommendedAlpha = { alpha: 0.5, chosenOn };
      expect(() => parse(m)).toThrow('models.members.0.recommendedAlpha.chosenOn: ');
    }
    expect(() =>
      parse({ ...m, models: { ...m.models, members: [{ ...m.models.members[0]!, recommendedAlpha: { alpha: 0.5 } }] } }),
    ).toThrow('models.members.0.recommendedAlpha.chosenOn: ');
  });

  it('a v2 manifest with a v1 models block (or the reverse) names the missing field', () => {
    const m = { ...v2(), models: (v1() as { models: unknown }).models };
    expect(() => parse(m)).toThrow('models.members: ');
    const r = { ...v1(), models: v2().models };
    expect(() => parse(r)).toThrow('models.fineTuned: ');
    expect(() => parse({ ...v2(), format: 'wiseft-pair/3' })).toThrow(/format: /);
  });
});

describe('manifest v1, normalised', () => {
  it('becomes one end-to-end member with its fine-tuned model', () => {
    const m = parse(v1());
    expect(m.format).toBe('wiseft-pair/1');
    expect(m.models).toEqual({
      zeroShot: { path: 'zeroshot.onnx' },
      members: [{ id: V1_MEMBER_ID, name: 'Fine-tuned', kind: 'end-to-end', model: { path: 'finetuned.onnx' } }],
    });
    expect(selectMember(m, null).id).toBe('fine-tuned');
    expect(() => selectMember(m, 'e2e-seed0')).toThrow('(its members: fine-tuned)');
  });

  it('a v1 manifest with "members" and no "fineTuned" is refused', () => {
    const m = { ...v1(), models: { zeroShot: { path: 'zeroshot.onnx' }, members: v2().models.members } };
    expect(() => parse(m)).toThrow('models.fineTuned: ');
  });
});

describe('manifest: external data files of a checkpoint', () => {
  const withData = (model: string, data: string[]) => {
    const m = v2();
    m.models.members[0]!.model = { path: model, externalData: data.map((path) => ({ path, bytes: 10 })) };
    return m;
  };

  it('lists them beside the model or below its folder', () => {
    const m = parse(withData('members/big.onnx', ['members/big.onnx.data', 'members/shards/big.1.data']));
    expect(m.models.members[0]!.model.externalData?.map((f) => f.path)).toEqual(['members/big.onnx.data', 'members/shards/big.1.data']);
  });

  it.each([
    [
      'outside the model’s folder',
      ['other/big.onnx.data'],
      "models.members.0.model.externalData.0.path: must be a file in the model's folder ('members/') or below it",
    ],
    ['the model itself', ['members/big.onnx'], 'externalData.0.path'],
    ['a path that leaves the bundle', ['members/../../x.data'], 'must be a relative path inside the bundle'],
  ])('refuses a data file %s, naming the field', (_, data, message) => {
    expect(() => parse(withData('members/big.onnx', data))).toThrow(ManifestError);
    expect(() => parse(withData('members/big.onnx', data))).toThrow(message);
  });
});
