// What the chart shows: the view settings, each a plain write, and the URL hash that mirrors them
// (every user-visible setting round-trips through the link).
import { formatHash, type HashState } from '../hash';
import type { State, Store } from '../store';

export interface ViewController {
  setShift(shift: string): void;
  setShowEnsemble(on: boolean): void;
  setShowRecorded(on: boolean): void;
  setPaper(paper: string): void;
  setPresenter(on: boolean): void;
  togglePresenter(): void;
}

export function createView(store: Store): ViewController {
  return {
    setShift: (shift) => store.setState({ shift }),
    setShowEnsemble: (showEnsemble) => store.setState({ showEnsemble }),
    setShowRecorded: (showRecorded) => store.setState({ showRecorded }),
    setPaper: (paper) => store.setState({ paper }),
    setPresenter: (presenter) => store.setState({ presenter }),
    togglePresenter: () => store.setState((s) => ({ presenter: !s.presenter })),
  };
}

export function hashOf(s: State): HashState {
  return {
    alpha: s.alpha,
    shift: s.shift,
    ensemble: s.showEnsemble,
    paper: s.paper,
    presenter: s.presenter,
    pair: s.pairUrl,
    backend: s.backendChoice,
    member: s.member,
    recorded: s.showRecorded,
    lab: s.labStep,
    hide: s.hidden,
    // Labels awaiting confirmation stay in the link: a shared link keeps asking for them.
    labels: s.customLabels ?? s.labelWarning?.labels ?? null,
    extrapolate: s.extrapolate,
    layers: s.layerAlphas,
    preset: s.layerPreset,
    lines: s.lines,
    sensitivity: s.sensitivity,
    soups: s.soupsOn,
    triangle: s.triangle,
    calibration: s.calibrationOpen,
    temperature: s.temperatureOn,
    finetune: s.probe.preset,
  };
}

/**
 * Keeps the URL's hash equal to the view, now and after every change that touches it (not on each
 * progress flush). Returns the unsubscribe.
 */
export function syncHash(store: Store, write: (hash: string) => void): () => void {
  let last = formatHash(hashOf(store.getState()));
  write(last);
  return store.subscribe((s) => {
    const hash = formatHash(hashOf(s));
    if (hash === last) return;
    last = hash;
    write(hash);
  });
}
