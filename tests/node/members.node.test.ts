// Bundles with several fine-tuned members (wiseft-pair/2), through the Explorer and the CLI, on
// onnxruntime-node: member choice, what is read, mismatched members, recorded sweeps.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Explorer } from '../../src/core/explorer';
import { loadBundle, BundleError } from '../../src/core/bundle/source';
import { UnknownMemberError } from '../../src/core/bundle/manifest';
import { ortNode } from '../../src/core/runtime/ort-node';
import { parseResults } from '../../src/core/eval/results';
import { main } from '../../cli/wiseft';
import { makeTestBundle, memorySource, type TestMember } from '../support/testBundle';
import { captureLog, quiet } from '../support/quiet';
import { writeBundleDir } from '../support/testBundle';

const MEMBERS: TestMember[] = [
  {
    id: 'e2e-seed0',
    kind: 'end-to-end',
    seed: 0,
    description: 'end to end, seed 0',
    sweeps: true,
    recommendedAlpha: { alpha: 0.6, chosenOn: 'validation draw (seed 101)' },
  },
  { id: 'lp-seed1', kind: 'linear-classifier', seed: 1, perturbSeed: 40 },
  // Six classes in the head: cannot be blended with the five-class zero-shot model.
  { id: 'wrong-head', model: { shapes: { 'head.weight': [16, 6], 'head.bias': [6] } } },
];
const SETS = [
  { id: 'reference', role: 'reference' as const, count: 200 },
  { id: 'shiftA', role: 'shift' as const, count: 100 },
];

function bundle() {
  return makeTestBundle({ seed: 5, sets: SETS, members: MEMBERS });
}

/** A memory source that records which files were read. */
function recording(files: Map<string, Uint8Array>) {
  const reads: string[] = [];
  const inner = memorySource(files);
  return {
    reads,
    source: {
      label: 'memory',
      read: async (p: string) => {
        reads.push(p);
        return inner.read(p);
      },
    },
  };
}

const writeBundle = (files: Map<string, Uint8Array>) => writeBundleDir(files, 'wiseft-members-');

describe('a v2 bundle with several members, in the Explorer', () => {
  it('loads the first member by default, reads no other member, and another member changes α = 1 but not α = 0', async () => {
    const { files } = bundle();
    const { reads, source } = recording(files);
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    const first = await explorer.loadPair(await loadBundle(source));
    expect(first.member).toBe('e2e-seed0');
    expect(first.members.map((m) => [m.id, m.kind, m.seed, m.hasSweeps])).toEqual([
      ['e2e-seed0', 'end-to-end', 0, true],
      ['lp-seed1', 'linear-classifier', 1, false],
      ['wrong-head', 'end-to-end', null, false],
    ]);
    // The member's recommended α reaches the summary the page reads; a member without one says null.
    expect(first.members.map((m) => m.recommendedAlpha)).toEqual([{ alpha: 0.6, chosenOn: 'validation draw (seed 101)' }, null, null]);
    expect(reads).toContain('members/e2e-seed0.onnx');
    expect(reads.filter((p) => p.startsWith('members/'))).toEqual(['members/e2e-seed0.onnx']);
    expect(await explorer.evaluate([0, 1], null, () => undefined)).toBe('done');
    const a = explorer.snapshot()!;

    reads.length = 0;
    const second = await explorer.loadPair(await loadBundle(source, undefined, { member: 'lp-seed1' }));
    expect(second.member).toBe('lp-seed1');
    expect(reads.filter((p) => p.startsWith('members/'))).toEqual(['members/lp-seed1.onnx']);
    // Results are keyed per member: the new pair starts with none of the other member's points.
    expect(second.bundleHash).not.toBe(first.bundleHash);
    expect(explorer.snapshot()!.points).toEqual({});
    expect(await explorer.evaluate([0, 1], null, () => undefined)).toBe('done');
    const b = explorer.snapshot()!;
    expect(b.resultsKey).toBe(second.bundleHash);
    // Same zero-shot model: identical α = 0; another fine-tuned checkpoint: other α = 1 counts.
    expect(b.points['0']).toEqual(a.points['0']);
    const at1 = (s: typeof a) => SETS.map((x) => s.points['1']![x.id]!.correct);
    expect(at1(b)).not.toEqual(at1(a));
    await explorer.dispose();
  });

  it('refuses a member that does not match the zero-shot model, naming it, and keeps the member it had', async () => {
    const { files } = bundle();
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    const before = await explorer.loadPair(await loadBundle(memorySource(files), undefined, { member: 'lp-seed1' }));
    await explorer.evaluate([0.5], null, () => undefined);
    const points = explorer.snapshot()!.points;
    const bad = await loadBundle(memorySource(files), undefined, { member: 'wrong-head' });
    await expect(explorer.loadPair(bad)).rejects.toThrow(
      /member 'wrong-head'.*does not match the zero-shot model.*head\.weight.*float32\[16, 5\].*float32\[16, 6\]/,
    );
    expect(explorer.current!.member).toBe('lp-seed1');
    expect(explorer.current!.bundleHash).toBe(before.bundleHash);
    expect(explorer.snapshot()!.points).toEqual(points);
    await explorer.dispose();
  });

  it('an unknown member id is refused listing the members, or opens the default with a note', async () => {
    const { files } = bundle();
    await expect(loadBundle(memorySource(files), undefined, { member: 'seed9' })).rejects.toThrow(UnknownMemberError);
    await expect(loadBundle(memorySource(files), undefined, { member: 'seed9' })).rejects.toThrow(
      "no member 'seed9' (its members: e2e-seed0, lp-seed1, wrong-head)",
    );
    const b = await loadBundle(memorySource(files), undefined, { member: 'seed9', unknownMember: 'default' });
    expect(b.member.id).toBe('e2e-seed0');
    expect(b.memberNote).toMatch(/no member 'seed9'.*opened 'e2e-seed0', the default/);
  });

  it("exposes the member's recorded sweeps (21 α, per-set counts) in the summary, and none for a member without", async () => {
    const { files } = bundle();
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    const s = await explorer.loadPair(await loadBundle(memorySource(files)));
    expect(s.sweeps!.weight).toHaveLength(21);
    expect(s.sweeps!.output).toHaveLength(21);
    expect(s.sweeps!.weight![20]).toMatchObject({ alpha: 1, 'reference:n': 200, 'shiftA:n': 100 });
    expect(s.sweeps!.weight).not.toEqual(s.sweeps!.output);
    const lp = await explorer.loadPair(await loadBundle(memorySource(files), undefined, { member: 'lp-seed1' }));
    expect(lp.sweeps).toBeNull();
    await explorer.dispose();
  });

  it('refuses a recorded sweep that is not a results file, or names none of the eval sets, with its path', async () => {
    const { files } = bundle();
    const broken = new Map(files);
    broken.set('sweeps/e2e-seed0.weight.jsonl', new TextEncoder().encode('not json\n'));
    await expect(loadBundle(memorySource(broken))).rejects.toThrow(
      /sweeps\/e2e-seed0\.weight\.jsonl is not a wise-ft results file: line 1 is not JSON/,
    );
    const other = new Map(files);
    other.set('sweeps/e2e-seed0.output.jsonl', new TextEncoder().encode('{"alpha": 0, "ImageNet:top1": 0.7}\n'));
    await expect(loadBundle(memorySource(other))).rejects.toThrow(BundleError);
    await expect(loadBundle(memorySource(other))).rejects.toThrow(
      /sweeps\/e2e-seed0\.output\.jsonl has no accuracy for any of this bundle's eval sets \(reference, shiftA\)/,
    );
  });

  it('a v1 bundle loads as one member, "fine-tuned", with no sweeps', async () => {
    const { files } = makeTestBundle({ sets: SETS });
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    const s = await explorer.loadPair(await loadBundle(memorySource(files)));
    expect(s.members).toEqual([
      { id: 'fine-tuned', name: 'Fine-tuned', kind: 'end-to-end', seed: null, description: '', hasSweeps: false, recommendedAlpha: null },
    ]);
    expect(s.member).toBe('fine-tuned');
    expect(s.sweeps).toBeNull();
    await explorer.dispose();
  });
});

describe('wiseft CLI on a v2 bundle', () => {
  it('lists the members; --member picks the endpoint of eval and export; an unknown id lists the ids', async () => {
    const dir = writeBundle(bundle().files);
    const out = mkdtempSync(join(tmpdir(), 'wiseft-members-cli-'));
    const { result, lines } = await captureLog(() => main(['members', '--pair', dir]));
    expect(result).toBe(0);
    expect(lines).toEqual([
      'e2e-seed0\tend-to-end\tseed 0\tmember e2e-seed0\trecorded sweeps: weight, output\trecommended α 0.60 (validation draw (seed 101))\t(default)',
      'lp-seed1\tlinear-classifier\tseed 1\tmember lp-seed1',
      'wrong-head\tend-to-end\tno seed\tmember wrong-head',
    ]);

    expect(await quiet(() => main(['eval', '--pair', dir, '--alphas', '0,1', '--out', join(out, 'default.jsonl')]))).toBe(0);
    expect(
      await quiet(() => main(['eval', '--pair', dir, '--member', 'e2e-seed0', '--alphas', '0,1', '--out', join(out, 'e2e.jsonl')])),
    ).toBe(0);
    expect(
      await quiet(() => main(['eval', '--pair', dir, '--member', 'lp-seed1', '--alphas', '0,1', '--out', join(out, 'lp.jsonl')])),
    ).toBe(0);
    const read = (f: string) => parseResults(readFileSync(join(out, f), 'utf8'));
    expect(read('e2e.jsonl')).toEqual(read('default.jsonl'));
    expect(read('lp.jsonl')[0]).toEqual(read('e2e.jsonl')[0]);
    expect(read('lp.jsonl')[1]).not.toEqual(read('e2e.jsonl')[1]);

    await expect(main(['eval', '--pair', dir, '--member', 'seed9', '--alphas', '0'])).rejects.toThrow(
      "--member: this bundle has no member 'seed9' (its members: e2e-seed0, lp-seed1, wrong-head)",
    );
    await expect(quiet(() => main(['eval', '--pair', dir, '--member', 'wrong-head', '--alphas', '0']))).rejects.toThrow(
      /member 'wrong-head'.*does not match the zero-shot model/,
    );

    expect(await quiet(() => main(['export', '--pair', dir, '--member', 'lp-seed1', '--alpha', '1', '--out', join(out, 'lp.onnx')]))).toBe(
      0,
    );
    expect(await quiet(() => main(['export', '--pair', dir, '--alpha', '1', '--out', join(out, 'e2e.onnx')]))).toBe(0);
    expect(Buffer.compare(readFileSync(join(out, 'lp.onnx')), readFileSync(join(out, 'e2e.onnx')))).not.toBe(0);
  });

  it('a v1 bundle keeps working: its one member is "fine-tuned"', async () => {
    const dir = writeBundle(makeTestBundle({ sets: SETS }).files);
    const { result, lines } = await captureLog(() => main(['members', '--pair', dir]));
    expect(result).toBe(0);
    expect(lines).toEqual(['fine-tuned\tend-to-end\tno seed\tFine-tuned\t(default)']);
    const out = mkdtempSync(join(tmpdir(), 'wiseft-members-cli-'));
    expect(await quiet(() => main(['eval', '--pair', dir, '--member', 'fine-tuned', '--alphas', '1', '--out', join(out, 'a.jsonl')]))).toBe(
      0,
    );
    expect(await quiet(() => main(['eval', '--pair', dir, '--alphas', '1', '--out', join(out, 'b.jsonl')]))).toBe(0);
    expect(readFileSync(join(out, 'a.jsonl'), 'utf8')).toBe(readFileSync(join(out, 'b.jsonl'), 'utf8'));
  });
});
