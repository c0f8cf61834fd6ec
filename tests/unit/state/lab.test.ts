// The guided lab: its steps and hidden parts in the URL hash, what each step keeps off the page
// until revealed, the controller's marks and reveals, and the text computed from the data.
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { formatHash, parseHash, DEFAULT_HASH } from '../../../src/state/hash';
import { hiddenParts, labView, LAB_STEPS } from '../../../src/state/lab';
import { labText, predictionMiss, weightPointAt, type LabData } from '../../../src/state/labText';
import { createLab } from '../../../src/state/controllers/lab';
import { createAlphaControl } from '../../../src/state/controllers/alpha';
import { createEvaluation } from '../../../src/state/controllers/evaluation';
import { createUploads } from '../../../src/state/controllers/uploads';
import { createAppStore, initialState } from '../../../src/state/store';
import { hashOf } from '../../../src/state/controllers/view';
import type { ResultLine } from '../../../src/core/eval/results';
import { FakeEngine, fakePair, acc } from '../../support/fakeEngine';

describe('lab links', () => {
  it('lab= opens a step and hide= hides parts; both round-trip in their canonical form', () => {
    const h = parseHash('#alpha=0.50&lab=2&hide=controls,table');
    expect(h).toMatchObject({ lab: 2, hide: ['controls', 'table'] });
    expect(formatHash(h)).toBe('#alpha=0.50&lab=2&hide=controls,table');
    expect(parseHash(formatHash(h))).toEqual(h);
  });

  it("reads TensorFlow Playground's *_hide keys and writes them as one hide= list, in a fixed order", () => {
    const h = parseHash('#table_hide=true&header_hide=1&pair_hide=false&lab=5');
    expect(h.hide).toEqual(['header', 'table']);
    expect(formatHash(h)).toBe('#alpha=0.50&lab=5&hide=header,table');
  });

  it('drops a step that does not exist and a part it does not know, from the state and the URL', () => {
    for (const lab of ['0', String(LAB_STEPS.length + 1), '2.5', 'two', '']) {
      const h = parseHash(`#lab=${lab}&hide=chart,slider,nosuch&chart_hide=true`);
      expect(h.lab, `lab=${lab}`).toBeNull();
      expect(h.hide).toEqual([]);
      expect(formatHash(h)).toBe('#alpha=0.50');
    }
    expect(parseHash('').lab).toBe(DEFAULT_HASH.lab);
  });

  it('the store opens at the link step with nothing marked, and writes the step back to the link', () => {
    const s = initialState(parseHash('#lab=3&hide=uploads'));
    expect(s).toMatchObject({ labStep: 3, hidden: ['uploads'], prediction: null, revealed: false });
    expect(formatHash(hashOf(s))).toBe('#alpha=0.50&lab=3&hide=uploads');
  });
});

describe('what a step keeps back', () => {
  it('the answer to a prediction is off the chart and the table hidden until revealed; the recommended α waits for the last step', () => {
    expect(labView(2, false)).toMatchObject({ zeroShot: true, fineTuned: false, curve: false });
    expect(labView(2, true)).toMatchObject({ zeroShot: true, fineTuned: true, curve: false });
    expect(labView(3, false)).toMatchObject({ fineTuned: true, curve: false, current: false });
    expect(labView(3, true)).toMatchObject({ curve: true, current: true });
    expect(labView(4, false)?.ensemble).toBe(true);
    expect(labView(null, false)).toBeNull();
    expect([...hiddenParts(['header'], 2, false)].sort()).toEqual(['header', 'recommended', 'table']);
    expect([...hiddenParts([], 2, true)]).toEqual(['recommended']);
    expect([...hiddenParts([], LAB_STEPS.length, false)]).toEqual([]);
    expect([...hiddenParts(['controls'], null, false)]).toEqual(['controls']);
  });
});

const line = (alpha: number, reference: number, shift: number): ResultLine => ({ alpha, 'reference:top1': reference, 'shift:top1': shift });
/** A member with a recorded sweep: the weight-space curve bows above the endpoints' straight line. */
const sweptPair = () =>
  fakePair({
    members: [
      {
        id: 'ft',
        name: 'Fine-tuned',
        kind: 'end-to-end',
        seed: 0,
        description: '',
        hasSweeps: true,
        recommendedAlpha: { alpha: 0.6, chosenOn: 'a validation draw' },
      },
    ],
    sweeps: {
      weight: [line(0, 0.6, 0.5), line(0.5, 0.8, 0.6), line(0.6, 0.84, 0.58), line(1, 0.9, 0.45)],
      output: [line(0, 0.6, 0.5), line(0.5, 0.78, 0.57), line(1, 0.9, 0.45)],
    },
  });

describe('the lab controller', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const engine = new FakeEngine();
    const store = createAppStore();
    store.setState({ pair: sweptPair(), resultsKey: sweptPair().resultsKey, alpha: 0.5 });
    const alpha = createAlphaControl(store, createEvaluation(engine, store), createUploads(engine, store));
    return { store, lab: createLab(store, alpha) };
  }

  it("a step puts its α on the slider (the last step the member's recommended α), and steps are clamped", () => {
    const { store, lab } = setup();
    lab.goToStep(2);
    expect(store.getState()).toMatchObject({ labStep: 2, alpha: 1 });
    lab.nextStep();
    expect(store.getState()).toMatchObject({ labStep: 3, alpha: 0.5 });
    lab.goToStep(99);
    expect(store.getState()).toMatchObject({ labStep: LAB_STEPS.length, alpha: 0.6 });
    lab.nextStep();
    expect(store.getState().labStep).toBe(LAB_STEPS.length);
    lab.goToStep(-3);
    lab.prevStep();
    expect(store.getState()).toMatchObject({ labStep: 1, alpha: 0 });
  });

  it('a mark counts only while the answer is hidden; reveal needs one; a new step starts unmarked', () => {
    const { store, lab } = setup();
    lab.goToStep(1);
    lab.predict(70, 60);
    expect(store.getState().prediction).toBeNull();
    lab.goToStep(2);
    lab.reveal();
    expect(store.getState().revealed).toBe(false);
    lab.predict(NaN, 60);
    expect(store.getState().prediction).toBeNull();
    lab.predict(120.04, 61.26);
    expect(store.getState().prediction).toEqual({ x: 100, y: 61.3 });
    lab.reveal();
    expect(store.getState().revealed).toBe(true);
    lab.predict(10, 10);
    expect(store.getState().prediction).toEqual({ x: 100, y: 61.3 });
    lab.nextStep();
    expect(store.getState()).toMatchObject({ labStep: 3, prediction: null, revealed: false });
    lab.leaveLab();
    expect(store.getState().labStep).toBeNull();
  });

  it('follows a link opened in the same page: a new step starts afresh, the same step keeps the mark, hide= is taken as is', () => {
    const { store, lab } = setup();
    lab.goToStep(2);
    lab.predict(80, 60);
    lab.followLink(parseHash('#lab=2&hide=table'));
    expect(store.getState()).toMatchObject({ labStep: 2, prediction: { x: 80, y: 60 }, hidden: ['table'] });
    lab.followLink(parseHash('#lab=3'));
    expect(store.getState()).toMatchObject({ labStep: 3, prediction: null, alpha: 0.5, hidden: [] });
    lab.followLink(parseHash('#alpha=0.50'));
    expect(store.getState().labStep).toBeNull();
  });
});

describe('what a step says', () => {
  const data = (over: Partial<LabData> = {}): LabData => ({ pair: sweptPair(), points: {}, ensemble: {}, shift: 'mean', ...over });

  it('reads its numbers from the recorded sweep, with no evaluation yet', () => {
    expect(labText(1, false, null, data()).lead).toContain('scores 60.0% on it and 50.0% under shift');
    const hidden = labText(2, false, { x: 80, y: 40 }, data());
    expect(hidden.answer).toBeNull();
    expect(hidden.task).toMatch(/Click the chart/);
    const shown = labText(2, true, { x: 80, y: 40 }, data());
    expect(shown.answer).toBe(
      'Fine-tuned (α = 1): 90.0% on the reference (+30.0 points against zero-shot) and 45.0% under shift (\u22125.0).',
    );
    expect(shown.miss).toContain('was 11.2 points from the answer: the answer is +10.0 on the reference and +5.0 under shift');
  });

  it('places α = 0.5 against the straight line between the endpoints, and compares weights with outputs at α = 0.5', () => {
    // The line at reference 80% is 50 + (20 / 30)·(−5) = 46.67%; the sweep has 60%.
    expect(labText(3, true, { x: 75, y: 50 }, data()).answer).toContain('13.3 points above the dashed line');
    expect(labText(4, false, null, data()).answer).toContain('weights +2.0 points on the reference and +3.0 under shift');
  });

  it('lists every shift set at zero-shot, the recommended α and fine-tuned', () => {
    const t = labText(5, false, null, data());
    expect(t.lead).toContain('recommends α = 0.60, chosen on a validation draw');
    expect(t.rows).toHaveLength(1);
    expect(t.rows[0]).toMatchObject({ id: 'shift', name: 'shift' });
    expect(t.rows[0]!.zeroShot).toBeCloseTo(50, 9);
    expect(t.rows[0]!.at).toBeCloseTo(58, 9);
    expect(t.rows[0]!.fineTuned).toBeCloseTo(45, 9);
  });

  it('without a recorded sweep, waits for the live point to be computed on every image', () => {
    const pair = fakePair();
    const partial = { '0': { reference: acc(50, 100, 200), shift: acc(40, 100) } };
    expect(weightPointAt({ pair, points: partial, ensemble: {}, shift: 'mean' }, 0)).toBeNull();
    expect(labText(1, false, null, { pair, points: partial, ensemble: {}, shift: 'mean' }).lead).toContain('appear here once');
    const full = { '0': { reference: acc(130, 200), shift: acc(40, 100) } };
    expect(weightPointAt({ pair, points: full, ensemble: {}, shift: 'mean' }, 0)).toEqual({ x: 65, y: 40 });
  });

  it('measures the miss as the distance on the chart, in points', () => {
    expect(predictionMiss({ x: 70, y: 60 }, { x: 73, y: 64 })).toEqual({ dx: 3, dy: 4, distance: 5 });
  });
});
