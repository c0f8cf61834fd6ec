// Calibration along α: while the panel is open, asks the engine for its report (ECE, NLL, the
// reliability bins at the current α; temperature scaling when on) whenever what it is computed
// from changes (new chunks of the frontier, the ensemble, α, the toggle), at most every REPORT_MS.
// Owns the request id (a report for an older request or another results key is dropped), the
// throttle's timer and the store subscription. An α the page has complete but the engine has not
// seen (restored from the frontier cache) is handed to the evaluation to run in the engine.
import { GRID, EXTRAPOLATED_GRID, errorCode, errorMessage, type CalibrationReport, type EngineApi } from '../../worker/protocol';
import { missingInEngine } from '../calibration';
import { say, type State, type Store } from '../store';
import type { EvaluationController } from './evaluation';

export interface CalibrationController {
  setCalibrationOpen(on: boolean): void;
  setTemperature(on: boolean): void;
  /** The set whose reliability diagram is drawn (null: the reference set). */
  setCalibrationSet(id: string | null): void;
  dispose(): void;
}

/** At most one report per this long while the frontier fills (a report on the bundled pair takes a few ms). */
export const REPORT_MS = 250;

class Calibration implements CalibrationController {
  private latest = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight = false;
  /** A change came while a request was in flight: ask again when it returns. */
  private dirty = false;
  /** α already handed to the evaluation under a results key: asked once. */
  private handed: { resultsKey: string; alphas: Set<number> } | null = null;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly engine: EngineApi,
    private readonly store: Store,
    private readonly evaluation: EvaluationController,
  ) {
    this.unsubscribe = store.subscribe((s, prev) => {
      if (s.pair?.resultsKey !== prev.pair?.resultsKey) {
        this.latest++;
        this.store.setState({ calibration: null, calibrationSet: null });
        return this.request(0);
      }
      const changed =
        s.points !== prev.points ||
        s.ensemble !== prev.ensemble ||
        s.alpha !== prev.alpha ||
        s.extrapolate !== prev.extrapolate ||
        s.temperatureOn !== prev.temperatureOn ||
        s.calibrationOpen !== prev.calibrationOpen;
      if (changed) this.request(s.temperatureOn !== prev.temperatureOn || s.calibrationOpen !== prev.calibrationOpen ? 0 : REPORT_MS);
    });
    this.request(0);
  }

  setCalibrationOpen(on: boolean): void {
    this.store.setState({ calibrationOpen: on });
  }

  setTemperature(on: boolean): void {
    this.store.setState({ temperatureOn: on });
  }

  setCalibrationSet(id: string | null): void {
    this.store.setState({ calibrationSet: id });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.latest++;
    this.unsubscribe();
  }

  /** A report within `delayMs` (a throttle: a timer already set is kept, so a stream of changes asks every delay). */
  private request(delayMs: number): void {
    const s = this.store.getState();
    if (!s.calibrationOpen || !s.pair) return;
    if (this.inFlight) {
      this.dirty = true;
      return;
    }
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fetch(), delayMs);
  }

  private async fetch(): Promise<void> {
    this.timer = null;
    const s = this.store.getState();
    if (!s.calibrationOpen || !s.pair) return;
    const id = ++this.latest;
    const resultsKey = s.pair.resultsKey;
    this.inFlight = true;
    this.dirty = false;
    let report: CalibrationReport | null = null;
    try {
      report = await this.engine.calibration({
        alpha: s.alpha,
        grid: s.extrapolate ? EXTRAPOLATED_GRID : GRID,
        temperature: s.temperatureOn,
      });
    } catch (e) {
      if (id === this.latest && errorCode(e) !== 'no-pair') say('error', `Calibration stopped: ${errorMessage(e)}`, this.store);
    } finally {
      this.inFlight = false;
    }
    const now = this.store.getState();
    if (report && id === this.latest && report.resultsKey === resultsKey && now.pair?.resultsKey === resultsKey) {
      this.store.setState({ calibration: report });
      this.handOver(now, report);
    }
    if (this.dirty) this.request(REPORT_MS);
  }

  /** α complete on the page but not in the engine (a restored frontier) are evaluated there, once each. */
  private handOver(s: State, report: CalibrationReport): void {
    if (!s.pair || s.evaluating || s.evalPaused) return;
    if (this.handed?.resultsKey !== report.resultsKey) this.handed = { resultsKey: report.resultsKey, alphas: new Set() };
    const handed = this.handed;
    const missing = missingInEngine(s.pair, s.points, report, s.extrapolate ? EXTRAPOLATED_GRID : GRID, s.alpha).filter(
      (a) => !handed.alphas.has(a),
    );
    if (missing.length === 0) return;
    for (const a of missing) handed.alphas.add(a);
    this.evaluation.evaluateInEngine(missing, report.resultsKey);
  }
}

export function createCalibration(engine: EngineApi, store: Store, evaluation: EvaluationController): CalibrationController {
  return new Calibration(engine, store, evaluation);
}
