// The app-side pieces of several fine-tuned members: member= and recorded= in the URL hash, the
// α = 1 label, and the recorded sweep as a chart curve.
import { describe, it, expect } from 'vitest';
import { parseHash, formatHash, DEFAULT_HASH } from '../../src/state/hash';
import { fineTunedLabel, recordedCurve, memberTraits, RECORDED_SERIES } from '../../src/state/members';
import { parseResults } from '../../src/core/eval/results';
import { sweepLines } from '../support/testBundle';
import type { PairSummary, MemberSummary, ResultsKey } from '../../src/worker/protocol';

const SETS = [
  { id: 'reference', role: 'reference' as const, count: 100 },
  { id: 'v2', role: 'shift' as const, count: 50 },
  { id: 'sketch', role: 'shift' as const, count: 50 },
];

function pair(members: MemberSummary[], member: string, sweeps: PairSummary['sweeps'] = null): PairSummary {
  return {
    name: 'p',
    members,
    member,
    sweeps,
    description: '',
    citation: '',
    classes: ['a', 'b'],
    templates: ['{}'],
    sets: SETS.map((s) => ({ ...s, name: s.id, analogue: null, description: '', classSubset: null })),
    bundleHash: 'h',
    resultsKey: 'h' as ResultsKey,
    trainedHere: [],
    sourceUrl: null,
    hasText: false,
    vocabulary: null,
    inputSize: 8,
    layers: [],
    engine: { backend: 'cpu', blendedBytes: 0, gpuBytes: 0, blendedTensors: 0, sharedTensors: 0 },
  };
}

const e2e: MemberSummary = {
  id: 'e2e-seed0',
  name: 'End-to-end, seed 0',
  kind: 'end-to-end',
  seed: 0,
  description: '',
  hasSweeps: true,
  recommendedAlpha: null,
};
const lp: MemberSummary = {
  id: 'lp-seed1',
  name: 'Linear, seed 1',
  kind: 'linear-classifier',
  seed: 1,
  description: '',
  hasSweeps: false,
  recommendedAlpha: null,
};
const v1: MemberSummary = {
  id: 'fine-tuned',
  name: 'Fine-tuned',
  kind: 'end-to-end',
  seed: null,
  description: '',
  hasSweeps: false,
  recommendedAlpha: null,
};

describe('the URL hash', () => {
  it('round-trips member= and recorded=0, and leaves them out by default', () => {
    expect(parseHash('#alpha=0.30&member=lp-seed1&recorded=0')).toMatchObject({ alpha: 0.3, member: 'lp-seed1', recorded: false });
    expect(parseHash('#alpha=0.30')).toMatchObject({ member: null, recorded: true });
    const h = formatHash({ ...DEFAULT_HASH, member: 'e2e-seed0', recorded: false });
    expect(h).toContain('member=e2e-seed0');
    expect(h).toContain('recorded=0');
    expect(parseHash(h)).toMatchObject({ member: 'e2e-seed0', recorded: false });
    expect(formatHash(DEFAULT_HASH)).toBe('#alpha=0.50');
  });
});

describe('members in the view', () => {
  it('names the member at α = 1 when there is a choice (or a seed), plain "fine-tuned" for a v1 pair', () => {
    expect(fineTunedLabel(pair([e2e, lp], 'e2e-seed0'))).toBe('fine-tuned (end-to-end, seed 0)');
    expect(fineTunedLabel(pair([e2e, lp], 'lp-seed1'))).toBe('fine-tuned (linear-classifier, seed 1)');
    expect(fineTunedLabel(pair([v1], 'fine-tuned'))).toBe('fine-tuned');
    expect(memberTraits({ kind: 'linear-classifier', seed: null })).toBe('linear-classifier');
  });

  it('turns the recorded weight-space sweep into a "recorded sweep" curve over the pair\'s sets, and none without one', () => {
    const weight = parseResults(sweepLines(SETS, 0.8));
    const curve = recordedCurve(pair([e2e, lp], 'e2e-seed0', { weight, output: null }))!;
    expect(curve.series).toBe(RECORDED_SERIES);
    expect(curve.reference).toBe('reference');
    expect(curve.shifts).toEqual(['v2', 'sketch']);
    expect(curve.points).toHaveLength(21);
    const mid = curve.points[10]!;
    expect(mid.alpha).toBe(0.5);
    expect(mid.reference).toBeCloseTo(0.6, 6);
    expect(mid.shift).toBeCloseTo(0.4 + 0.8 * 0.25, 6);
    expect(recordedCurve(pair([e2e, lp], 'lp-seed1'))).toBeNull();
    expect(recordedCurve(null)).toBeNull();
  });
});
