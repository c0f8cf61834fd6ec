// The calibration panel's state: the chart's rows (the mean of shifts only when every shift set has
// a number), the current α's table, the reliability view, the temperature in words, which α the
// engine still has to see; the hash; and the controller (asks only while open, at most every
// REPORT_MS while the frontier fills, drops a report of another pair or an older request, hands α
// restored from the cache to the evaluation once).
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { createAppStore } from '../../../src/state/store';
import { createCalibration, REPORT_MS } from '../../../src/state/controllers/calibration';
import type { EvaluationController } from '../../../src/state/controllers/evaluation';
import {
  calibrationRows,
  calibrationTable,
  missingInEngine,
  reliabilityView,
  temperatureText,
  eceText,
  nllText,
} from '../../../src/state/calibration';
import { parseHash, formatHash, DEFAULT_HASH } from '../../../src/state/hash';
import { GRID, type CalibrationReport, type CalibrationStats, type ResultsKey } from '../../../src/worker/protocol';
import { FakeEngine, fakePair, accOf } from '../../support/fakeEngine';

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

const stats = (ece: number, nll: number, n = 100): CalibrationStats => ({ n, correct: n / 2, ece, nll });
const bins = (count: number) =>
  Array.from({ length: 15 }, (_, b) => ({
    lower: b / 15,
    upper: (b + 1) / 15,
    count: b === 14 ? count : 0,
    confidence: b === 14 ? 0.97 : null,
    accuracy: b === 14 ? 0.9 : null,
  }));

function report(over: Partial<CalibrationReport> = {}): CalibrationReport {
  return {
    resultsKey: 'bundle-1' as ResultsKey,
    alpha: 0.5,
    temperature: false,
    referenceSet: 'reference',
    weight: {
      points: { '0': { reference: stats(0.1, 0.5, 200), shift: stats(0.2, 0.9) }, '0.5': { reference: stats(0.05, 0.4, 100) } },
      temperatures: {},
      reliability: { reference: { n: 100, bins: bins(100) } },
    },
    output: { points: {}, temperatures: {}, reliability: {} },
    ...over,
  };
}

describe('calibration, derived', () => {
  it('charts the reference set and the mean of the shifts, the latter only where every shift set has a number', () => {
    const pair = fakePair();
    const { rows, images } = calibrationRows(pair, report());
    expect(rows.map((r) => r.alpha)).toEqual([0, 0.5]);
    expect(rows[0]).toMatchObject({ weightRefEce: 0.1, weightShiftEce: 0.2, weightRefNll: 0.5, weightShiftNll: 0.9, outputRefEce: null });
    expect(rows[1]).toMatchObject({ weightRefEce: 0.05, weightShiftEce: null });
    expect(images).toEqual({ min: 100, max: 200 });
  });

  it("lists the current α's numbers per set in both spaces, and the reliability bins of the chosen set (default: reference)", () => {
    const pair = fakePair();
    const table = calibrationTable(pair, report());
    expect(table.map((r) => [r.id, r.weight?.n ?? null, r.output])).toEqual([
      ['reference', 100, null],
      ['shift', null, null],
    ]);
    const view = reliabilityView(pair, report(), null)!;
    expect(view.setId).toBe('reference');
    expect(view.weightN).toBe(100);
    expect(view.outputN).toBeNull();
    expect(view.rows).toHaveLength(15);
    expect(view.rows[14]).toMatchObject({ bin: '0.93–1.00', weightCount: 100, weightAccuracy: 0.9, outputCount: 0 });
    expect(reliabilityView(pair, report(), 'shift')!.rows).toEqual([]);
    expect(reliabilityView(pair, report(), 'gone')!.setId).toBe('reference');
  });

  it('says the temperature with what it was fitted on', () => {
    const r = report({
      temperature: true,
      weight: { ...report().weight, temperatures: { '0.5': { value: 1.734, n: 1000, nllBefore: 0.5123, nll: 0.4511 } } },
    });
    expect(temperatureText(r, 'weight')).toBe("T = 1.73, fitted on the reference set's n = 1,000 images (its NLL 0.512 → 0.451)");
    expect(temperatureText(r, 'output')).toBeNull();
    expect(temperatureText(report(), 'weight')).toBeNull();
  });

  it('finds the α complete on the page that the engine has not seen on every image', () => {
    const pair = fakePair();
    const full = { reference: accOf(new Array(200).fill(1)), shift: accOf(new Array(100).fill(0)) };
    const points = { '0': full, '0.5': full, '1': full };
    // 0: the engine has 200 of 200 and 100 of 100; 0.5: only 100 of 200; 1: nothing.
    const r = report({
      weight: {
        ...report().weight,
        points: { '0': { reference: stats(0, 0, 200), shift: stats(0, 0, 100) }, '0.5': { reference: stats(0, 0, 100) } },
      },
    });
    expect(missingInEngine(pair, points, r, GRID, 0.5)).toEqual([0.5, 1]);
  });

  it('writes ECE in percent and NLL in nats, a dash for none', () => {
    expect(eceText(0.0423)).toBe('4.2%');
    expect(eceText(null)).toBe('—');
    expect(nllText(0.41234)).toBe('0.412');
    expect(nllText(Infinity)).toBe('∞');
    expect(nllText(NaN)).toBe('—');
  });
});

describe('the URL hash', () => {
  it('round-trips the panel and the temperature toggle', () => {
    const h = { ...DEFAULT_HASH, calibration: true, temperature: true };
    expect(formatHash(h)).toContain('calib=1&temp=1');
    expect(parseHash(formatHash(h))).toEqual(h);
    expect(parseHash('#calib=yes').calibration).toBe(false);
  });
});

describe('the calibration controller', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const engine = new FakeEngine();
    engine.pair = fakePair();
    const store = createAppStore();
    const inEngine: { alphas: readonly number[]; key: string }[] = [];
    const evaluation = {
      evaluateInEngine: (alphas: readonly number[], key: string) => inEngine.push({ alphas, key }),
    } as unknown as EvaluationController;
    const calibration = createCalibration(engine, store, evaluation);
    store.setState({ pair: fakePair(), alpha: 0.5 });
    vi.advanceTimersByTime(0);
    return { engine, store, calibration, inEngine };
  }

  it('asks nothing while the panel is closed; on opening asks for the grid, the current α and the toggle', async () => {
    const { engine, store, calibration } = setup();
    expect(engine.calibrationAnswers).toHaveLength(0);
    calibration.setCalibrationOpen(true);
    vi.advanceTimersByTime(0);
    expect(engine.calibrationAnswers).toHaveLength(1);
    expect(engine.calibrationAnswers[0]!.req).toEqual({ alpha: 0.5, grid: GRID, temperature: false });
    engine.calibrationAnswers[0]!.resolve(report());
    await settle();
    expect(store.getState().calibration).toEqual(report());
    calibration.setTemperature(true);
    vi.advanceTimersByTime(0);
    expect(engine.calibrationAnswers.at(-1)!.req.temperature).toBe(true);
    calibration.dispose();
  });

  it('asks at most every REPORT_MS while points stream in, and once more for what came during a request', async () => {
    const { engine, store, calibration } = setup();
    calibration.setCalibrationOpen(true);
    vi.advanceTimersByTime(0);
    engine.calibrationAnswers[0]!.resolve(report());
    await settle();
    for (let i = 0; i < 5; i++) {
      store.setState({ points: { [String(i)]: {} } });
      vi.advanceTimersByTime(REPORT_MS / 5);
    }
    expect(engine.calibrationAnswers).toHaveLength(2);
    // A change while that request is in flight: asked again once it returns.
    store.setState({ points: { x: {} } });
    vi.advanceTimersByTime(REPORT_MS * 4);
    expect(engine.calibrationAnswers).toHaveLength(2);
    engine.calibrationAnswers[1]!.resolve(report());
    await settle();
    vi.advanceTimersByTime(REPORT_MS);
    expect(engine.calibrationAnswers).toHaveLength(3);
    calibration.dispose();
  });

  it('drops a report of another pair or an older request, and starts afresh for a new pair', async () => {
    const { engine, store, calibration } = setup();
    calibration.setCalibrationOpen(true);
    vi.advanceTimersByTime(0);
    engine.calibrationAnswers[0]!.resolve(report({ resultsKey: 'other' as ResultsKey }));
    await settle();
    expect(store.getState().calibration).toBeNull();
    store.setState({ alpha: 0.6 });
    vi.advanceTimersByTime(REPORT_MS);
    store.setState({ calibration: report(), calibrationSet: 'shift' });
    store.setState({ pair: fakePair({ resultsKey: 'bundle-2' as ResultsKey }) });
    expect(store.getState().calibration).toBeNull();
    expect(store.getState().calibrationSet).toBeNull();
    engine.calibrationAnswers[1]!.resolve(report());
    await settle();
    expect(store.getState().calibration).toBeNull();
    calibration.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('hands α complete on the page but not in the engine to the evaluation, once', async () => {
    const { engine, store, calibration, inEngine } = setup();
    const full = { reference: accOf(new Array(200).fill(1)), shift: accOf(new Array(100).fill(0)) };
    store.setState({ points: { '0': full, '1': full } });
    calibration.setCalibrationOpen(true);
    vi.advanceTimersByTime(0);
    engine.calibrationAnswers[0]!.resolve(report());
    await settle();
    // α = 0 is in the report on every image; α = 1 is not.
    expect(inEngine).toEqual([{ alphas: [1], key: 'bundle-1' }]);
    store.setState({ alpha: 0.55 });
    vi.advanceTimersByTime(REPORT_MS);
    engine.calibrationAnswers[1]!.resolve(report());
    await settle();
    expect(inEngine).toHaveLength(1);
    calibration.dispose();
  });
});
