// Guided lab mode (issue 14, item 3): a short sequence of steps with predict-then-reveal. The
// student marks where they expect a point to land before the chart shows it; every number the
// steps say is read from the data on screen (the member's recorded sweep, else the live points),
// never written into the text. Steps and the parts a link hides live in the URL hash, so an
// instructor shares a link to one step, with only the chart and the slider if they like.
/** What a link may hide (`hide=controls,table`, or TensorFlow Playground's `controls_hide=true`). */
export const HIDE_PARTS = ['header', 'controls', 'table', 'paper', 'pair', 'recommended', 'uploads'] as const;
export type HidePart = (typeof HIDE_PARTS)[number];

/** Which point a step asks the student to predict. */
export type LabTarget = 'fineTuned' | 'half';

/** What the chart draws in a lab step: the answer stays off it until the step is revealed. */
export interface LabView {
  zeroShot: boolean;
  fineTuned: boolean;
  /** The WiSE-FT curve: the live points and the recorded sweep. */
  curve: boolean;
  /** The output-space ensemble, live or recorded. */
  ensemble: boolean;
  current: boolean;
}

export interface LabStep {
  id: string;
  title: string;
  predict: LabTarget | null;
  /** The α the step puts on the slider (null: the member's recommended α, else 0.5). */
  alpha: number | null;
  before: LabView;
  after: LabView;
}

const view = (zeroShot: boolean, fineTuned: boolean, curve: boolean, ensemble = false): LabView => ({
  zeroShot,
  fineTuned,
  curve,
  ensemble,
  current: curve,
});

export const LAB_STEPS: readonly LabStep[] = [
  {
    id: 'zero-shot',
    title: 'Where zero-shot stands',
    predict: null,
    alpha: 0,
    before: view(true, false, false),
    after: view(true, false, false),
  },
  {
    id: 'fine-tuned',
    title: 'Predict: the fine-tuned model',
    predict: 'fineTuned',
    alpha: 1,
    before: view(true, false, false),
    after: view(true, true, false),
  },
  { id: 'halfway', title: 'Predict: α = 0.5', predict: 'half', alpha: 0.5, before: view(true, true, false), after: view(true, true, true) },
  {
    id: 'ensemble',
    title: 'Weights or outputs?',
    predict: null,
    alpha: 0.5,
    before: view(true, true, true, true),
    after: view(true, true, true, true),
  },
  {
    id: 'per-shift',
    title: 'Shift by shift, and the α to use',
    predict: null,
    alpha: null,
    before: view(true, true, true),
    after: view(true, true, true),
  },
];

export interface LabHash {
  /** The step, 1-based as in the link (`lab=2`); null outside lab mode. */
  lab: number | null;
  hide: HidePart[];
}

/** Reads `lab=` and the hide keys; a step out of range and an unknown part are dropped. */
export function parseLabHash(p: URLSearchParams): LabHash {
  const n = Number(p.get('lab'));
  const lab = p.has('lab') && Number.isInteger(n) && n >= 1 && n <= LAB_STEPS.length ? n : null;
  const asked = new Set((p.get('hide') ?? '').split(',').map((v) => v.trim()));
  for (const [k, v] of p) if (k.endsWith('_hide') && (v === 'true' || v === '1')) asked.add(k.slice(0, -5));
  return { lab, hide: HIDE_PARTS.filter((part) => asked.has(part)) };
}

/** Writes the canonical form: `lab=N` and one `hide=` list in HIDE_PARTS order. */
export function writeLabHash(p: URLSearchParams, s: LabHash): void {
  if (s.lab !== null) p.set('lab', String(s.lab));
  const hide = HIDE_PARTS.filter((part) => s.hide.includes(part));
  if (hide.length) p.set('hide', hide.join(','));
}

export const labStep = (n: number | null): LabStep | null => (n === null ? null : (LAB_STEPS[n - 1] ?? null));

/** The answer is still off the chart: the step asks for a prediction that is not revealed yet. */
export const pending = (n: number | null, revealed: boolean): boolean => !!labStep(n)?.predict && !revealed;

export function labView(n: number | null, revealed: boolean): LabView | null {
  const step = labStep(n);
  return step ? (revealed ? step.after : step.before) : null;
}

/**
 * The parts of the page not shown: what the link hides, plus what would give a pending answer
 * away (the table's numbers at the current α) or belongs to a later step (the recommended α).
 */
export function hiddenParts(hide: readonly HidePart[], n: number | null, revealed: boolean): Set<HidePart> {
  const out = new Set(hide);
  if (pending(n, revealed)) out.add('table');
  if (n !== null && n < LAB_STEPS.length) out.add('recommended');
  return out;
}
