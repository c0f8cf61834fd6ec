// The guided lab's actions: which step is shown, the student's mark, and the reveal. A step puts
// its own α on the slider (through the α controller, so the evaluation follows), and a new step
// starts with no mark and nothing revealed.
import type { Store } from '../store';
import type { AlphaController } from './alpha';
import { LAB_STEPS, labStep, pending, type LabHash } from '../lab';
import { focusAlpha } from '../labText';

export interface LabController {
  /** Opens step n (1-based, clamped to the steps there are), entering lab mode. */
  goToStep(n: number): void;
  nextStep(): void;
  prevStep(): void;
  leaveLab(): void;
  /** Marks where the student expects the step's point (percent on both axes); only while the answer is hidden. */
  predict(x: number, y: number): void;
  /** Shows the answer, once there is a mark to compare it with. */
  reveal(): void;
  /** Puts the current step's α on the slider (at start, once the pair and its recommended α are known). */
  applyStep(): void;
  /**
   * Follows a link opened in the page already (only the hash changed, so nothing reloads): its
   * step, if another than the one shown, and its hidden parts.
   */
  followLink(link: LabHash): void;
}

const clampPercent = (v: number) => Math.round(10 * Math.min(100, Math.max(0, v))) / 10;

export function createLab(store: Store, alpha: AlphaController): LabController {
  const applyStep = () => {
    const step = labStep(store.getState().labStep);
    if (step) alpha.setAlpha(step.alpha ?? focusAlpha(store.getState().pair));
  };
  const goToStep = (n: number) => {
    const step = Math.min(LAB_STEPS.length, Math.max(1, Math.round(n)));
    store.setState({ labStep: step, prediction: null, revealed: false });
    applyStep();
  };
  const leaveLab = () => store.setState({ labStep: null, prediction: null, revealed: false });
  return {
    goToStep,
    nextStep: () => goToStep((store.getState().labStep ?? 0) + 1),
    prevStep: () => goToStep((store.getState().labStep ?? 2) - 1),
    leaveLab,
    predict(x, y) {
      const s = store.getState();
      if (!pending(s.labStep, s.revealed) || !Number.isFinite(x) || !Number.isFinite(y)) return;
      store.setState({ prediction: { x: clampPercent(x), y: clampPercent(y) } });
    },
    reveal() {
      const s = store.getState();
      if (pending(s.labStep, s.revealed) && s.prediction) store.setState({ revealed: true });
    },
    applyStep,
    followLink(link) {
      const s = store.getState();
      if (s.hidden.join() !== link.hide.join()) store.setState({ hidden: link.hide });
      if (link.lab === s.labStep) return;
      if (link.lab === null) leaveLab();
      else goToStep(link.lab);
    },
  };
}
