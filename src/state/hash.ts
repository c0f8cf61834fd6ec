// Every user-visible setting round-trips through the URL hash (as TensorFlow Playground does), so
// a link in a talk opens exactly that view.
import { quantizeAlpha } from '../worker/protocol';
import { parseLabHash, writeLabHash, type HidePart } from './lab';
import { DEFAULT_LINES, isLayerPreset, type LayerPreset, type LinesParams } from './layerAlpha';

export interface HashState {
  alpha: number;
  shift: string;
  ensemble: boolean;
  paper: string;
  presenter: boolean;
  pair: string | null;
  backend: 'auto' | 'webgpu' | 'wasm';
  /** The fine-tuned member of a bundle with several (null: its default, the first). */
  member: string | null;
  /** The selected member's recorded sweep on the chart (where it has one). */
  recorded: boolean;
  /** The guided lab's step (1-based), null outside lab mode. */
  lab: number | null;
  /** Parts of the page the link hides. */
  hide: HidePart[];
  /** Custom labels for the uploads' zero-shot head (at least two), or null for the pair's classes. */
  labels: string[] | null;
  /** α from −0.5 to 1.5 (the frontier extended past both endpoints). */
  extrapolate: boolean;
  /** One α per layer group (per-layer α on), else null; its length is checked once the pair is known. */
  layers: number[] | null;
  /** The preset the per-layer α came from (null: set by hand). */
  preset: LayerPreset | null;
  lines: LinesParams;
  /** The sensitivity strip's images per set, when it is shown. */
  sensitivity: number | null;
  /** The soups panel is open. */
  soups: boolean;
  /** The soups' triangle, showing reference or shift accuracy; null: hidden. */
  triangle: 'reference' | 'shift' | null;
  /** The calibration panel is open. */
  calibration: boolean;
  /** Temperature scaling (fitted on the reference set) applied in the calibration panel. */
  temperature: boolean;
  /** The fine-tune lab the link opens (`finetune=`, finetunePresets.ts); a name the page does not know is told in words there. */
  finetune: string | null;
}

export const DEFAULT_HASH: HashState = {
  alpha: 0.5,
  shift: 'mean',
  ensemble: false,
  paper: 'none',
  presenter: false,
  pair: null,
  backend: 'auto',
  member: null,
  recorded: true,
  lab: null,
  hide: [],
  labels: null,
  extrapolate: false,
  layers: null,
  preset: null,
  lines: DEFAULT_LINES,
  sensitivity: null,
  soups: false,
  triangle: null,
  calibration: false,
  temperature: false,
  finetune: null,
};

/** The most labels, and the longest label, a link may carry: a link is shared, not a data file. */
export const MAX_LINK_LABELS = 100;
export const MAX_LABEL_CHARS = 80;

/**
 * The labels of a `labels=` value (comma-separated, as the labels field takes them): trimmed, empty
 * and repeated ones dropped, and over-long ones; null (dropped from the link) unless at least two
 * remain and there are at most MAX_LINK_LABELS.
 */
export function parseLabels(value: string | null): string[] | null {
  if (!value) return null;
  const labels = [...new Set(value.split(',').map((l) => l.trim()))].filter((l) => l.length > 0 && l.length <= MAX_LABEL_CHARS);
  return labels.length >= 2 && labels.length <= MAX_LINK_LABELS ? labels : null;
}

/** A list of α ("0.2,0.35,1"): every entry a number, else the whole list is dropped (null). */
function alphaList(s: string | null, extrapolate: boolean): number[] | null {
  if (!s) return null;
  const parts = s.split(',');
  const values = parts.map((x) => (x.trim() === '' ? NaN : Number(x)));
  return values.length > 0 && values.every(Number.isFinite) ? values.map((v) => quantizeAlpha(v, extrapolate)) : null;
}

/** The LiNeS ramp's base and slope ("0.2,0.8"), each within what a slider can set; else the default. */
function linesOf(s: string | null): LinesParams {
  const v = (s ?? '').split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  if (v.length !== 2 || !v.every(Number.isFinite)) return DEFAULT_LINES;
  return { base: quantizeAlpha(v[0]!, true), slope: Math.min(1, Math.max(-1, Math.round(v[1]! * 100) / 100)) + 0 };
}

/** Images per set for the sensitivity strip: a whole number of 100-image chunks, 100 to 1,000. */
function sensitivityOf(s: string | null): number | null {
  const n = Number(s);
  return s !== null && Number.isInteger(n) && n >= 100 && n <= 1000 && n % 100 === 0 ? n : null;
}

function layerHash(
  p: URLSearchParams,
  extrapolate: boolean,
): Pick<HashState, 'extrapolate' | 'layers' | 'preset' | 'lines' | 'sensitivity'> {
  const preset = p.get('preset');
  return {
    extrapolate,
    layers: alphaList(p.get('layers'), extrapolate),
    preset: isLayerPreset(preset) ? preset : null,
    lines: linesOf(p.get('lines')),
    sensitivity: sensitivityOf(p.get('sensitivity')),
  };
}

function triangleOf(s: string | null): HashState['triangle'] {
  return s === 'reference' || s === 'shift' ? s : null;
}

export function parseHash(hash: string, search = ''): HashState {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const q = new URLSearchParams(search.replace(/^\?/, ''));
  const alpha = Number(p.get('alpha'));
  const backend = p.get('backend') ?? q.get('backend');
  const extrapolate = p.get('extrapolate') === '1';
  return {
    ...layerHash(p, extrapolate),
    alpha: p.has('alpha') && Number.isFinite(alpha) ? quantizeAlpha(alpha, extrapolate) : DEFAULT_HASH.alpha,
    shift: p.get('shift') || DEFAULT_HASH.shift,
    ensemble: p.get('ensemble') === '1',
    paper: p.get('paper') || DEFAULT_HASH.paper,
    presenter: p.get('presenter') === '1' || q.get('presenter') === '1',
    pair: q.get('pair') || p.get('pair') || null,
    backend: backend === 'webgpu' || backend === 'wasm' ? backend : 'auto',
    // Checked against the bundle once it is read: an id it lacks opens the default with a note.
    member: p.get('member') || null,
    recorded: p.get('recorded') !== '0',
    ...parseLabHash(p),
    labels: parseLabels(p.get('labels')),
    soups: p.get('soups') === '1',
    triangle: triangleOf(p.get('triangle')),
    calibration: p.get('calib') === '1',
    temperature: p.get('temp') === '1',
    // A lab link may put it in the query (`?finetune=shortcut-98`), as `pair` and `backend` may be.
    finetune: p.get('finetune') || q.get('finetune') || null,
  };
}

export function formatHash(s: HashState): string {
  const p = new URLSearchParams();
  p.set('alpha', s.alpha.toFixed(2));
  if (s.shift !== DEFAULT_HASH.shift) p.set('shift', s.shift);
  if (s.ensemble) p.set('ensemble', '1');
  if (s.paper !== DEFAULT_HASH.paper) p.set('paper', s.paper);
  if (s.presenter) p.set('presenter', '1');
  if (s.pair) p.set('pair', s.pair);
  if (s.backend !== 'auto') p.set('backend', s.backend);
  if (s.member) p.set('member', s.member);
  if (!s.recorded) p.set('recorded', '0');
  writeLabHash(p, s);
  if (s.labels) p.set('labels', s.labels.join(','));
  if (s.extrapolate) p.set('extrapolate', '1');
  if (s.layers) p.set('layers', s.layers.map((a) => a.toFixed(2)).join(','));
  if (s.preset) p.set('preset', s.preset);
  if (s.lines.base !== DEFAULT_LINES.base || s.lines.slope !== DEFAULT_LINES.slope)
    p.set('lines', `${s.lines.base.toFixed(2)},${s.lines.slope.toFixed(2)}`);
  if (s.sensitivity !== null) p.set('sensitivity', String(s.sensitivity));
  if (s.soups) p.set('soups', '1');
  if (s.triangle) p.set('triangle', s.triangle);
  if (s.calibration) p.set('calib', '1');
  if (s.temperature) p.set('temp', '1');
  if (s.finetune) p.set('finetune', s.finetune);
  // A comma needs no escape in a fragment: `hide=controls,table` reads as a person would type it.
  return `#${p.toString().replace(/%2C/g, ',')}`;
}
