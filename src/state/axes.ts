// The frontier's axes: round, and held still while the Worker evaluates. A chart that rescales on
// every update makes the points look as if they moved when only the axes did; so the domain is
// chosen from what is known at a clear moment (a new pair, member, shift or curve selection; or the
// first complete coarse pass when nothing was known before it) and kept until the next one.
import { FIRST_PASS_IMAGES } from './frontier';

/** Percentage points on one axis, with round ticks (multiples of `step`: 5, 10 or 20). */
export interface Domain {
  lo: number;
  hi: number;
  step: number;
  ticks: number[];
}

/** An extent in percentage points on both axes (intervals included). */
export interface Box {
  x: [number, number];
  y: [number, number];
}

export interface HeldAxes {
  /** What the domain was chosen for: a new key is a clear moment to choose again. */
  key: string;
  /**
   * Where it came from: 'default' (0–100, nothing known yet), 'known' (a recorded sweep or imported
   * curve, before any live point), 'coarse' (the first complete coarse pass), 'grown' (a drawn
   * point or interval would have been cut off, so the domain widened to the next round value).
   */
  basis: 'default' | 'known' | 'coarse' | 'grown';
  x: Domain;
  y: Domain;
}

/**
 * The round domain holding [lo, hi]: ticks every 5 pp for a span up to 30 pp, 10 up to 60, else 20
 * (at most seven ticks, so that recharts never drops some for room on a phone and leaves an uneven
 * 10/30/50/70/100); at least 1 pp of room beyond the extent, so an interval's end never sits on the
 * frame; within 0–100.
 */
export function roundDomain(lo: number, hi: number): Domain {
  const a = Math.max(0, Math.min(lo, hi) - 1);
  const b = Math.min(100, Math.max(lo, hi) + 1);
  const step = b - a > 60 ? 20 : b - a > 30 ? 10 : 5;
  let l = Math.max(0, Math.floor(a / step) * step);
  let h = Math.min(100, Math.ceil(b / step) * step);
  // At least two steps: a single-point extent still gets a readable axis.
  while (h - l < 2 * step) {
    if (h < 100) h += step;
    else l -= step;
  }
  const ticks: number[] = [];
  for (let t = l; t <= h + 1e-9; t += step) ticks.push(t);
  return { lo: l, hi: h, step, ticks };
}

export const FULL: Domain = roundDomain(0, 100);

export function union(a: Box | null, b: Box | null): Box | null {
  if (!a) return b;
  if (!b) return a;
  return { x: [Math.min(a.x[0], b.x[0]), Math.max(a.x[1], b.x[1])], y: [Math.min(a.y[0], b.y[0]), Math.max(a.y[1], b.y[1])] };
}

/** The extent of some points with their (optional) error bars, as the chart draws them. */
export function boxOf(points: readonly { x: number; y: number; xErr?: [number, number]; yErr?: [number, number] }[]): Box | null {
  let box: Box | null = null;
  // A loop, not Math.min(...xs): an imported curve can have tens of thousands of points.
  for (const p of points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
    const b: Box = { x: [p.x - (p.xErr?.[0] ?? 0), p.x + (p.xErr?.[1] ?? 0)], y: [p.y - (p.yErr?.[0] ?? 0), p.y + (p.yErr?.[1] ?? 0)] };
    box = union(box, b);
  }
  return box;
}

const inside = (d: Domain, r: [number, number]) => r[0] >= d.lo && r[1] <= d.hi;

/**
 * The axes to draw now, given the ones held. `known`: curves known up front (recorded sweep,
 * imported results); `coarse`: the live curve once every grid α has a point (null before);
 * `drawn`: everything that will be drawn, intervals included. The domain changes only when the
 * key changes, when a 0–100 default gets its first complete coarse pass, or when something drawn
 * would be cut off (then it only widens, to round values).
 */
export function holdAxes(
  held: HeldAxes | null,
  input: { key: string; known: Box | null; coarse: Box | null; drawn: Box | null },
): HeldAxes {
  let next: HeldAxes;
  if (held && held.key === input.key && !(held.basis === 'default' && input.coarse)) {
    next = held;
  } else {
    const box = union(input.known, input.coarse);
    next = box
      ? { key: input.key, basis: input.coarse ? 'coarse' : 'known', x: roundDomain(box.x[0], box.x[1]), y: roundDomain(box.y[0], box.y[1]) }
      : { key: input.key, basis: 'default', x: FULL, y: FULL };
  }
  const d = input.drawn;
  if (d && !(inside(next.x, d.x) && inside(next.y, d.y))) {
    const x = inside(next.x, d.x) ? next.x : roundDomain(Math.min(next.x.lo, d.x[0]), Math.max(next.x.hi, d.x[1]));
    const y = inside(next.y, d.y) ? next.y : roundDomain(Math.min(next.y.lo, d.y[0]), Math.max(next.y.hi, d.y[1]));
    next = { key: next.key, basis: 'grown', x, y };
  }
  return next;
}

const Z95 = 1.959963984540054;

/**
 * The box a recorded sweep's points span with the bars live points will have while the Worker's
 * first pass runs (the first `firstN` images of each set, 100): a first-pass point is drawn with
 * its wide interval, and its estimate scatters around the recorded value by about as much, so each
 * recorded value is widened by two first-pass half-widths (a first-pass estimate beyond one
 * half-width of the final value is a 1-in-20 event per axis). Axes fitted to the bare recorded
 * points would widen a few seconds into every evaluation.
 */
export function recordedBox(
  points: readonly { reference: number; shift: number; perSet: Record<string, number> }[],
  sets: { reference: { id: string; count: number }; shifts: readonly { id: string; count: number }[] },
  shift: string,
  firstN = FIRST_PASS_IMAGES,
): Box | null {
  const hw = (vars: number[], k: number) => (100 * 2 * Z95 * Math.sqrt(vars.reduce((a, b) => a + b, 0))) / k;
  const varOf = (p: number, count: number) => Math.max(p * (1 - p), 0.01) / Math.min(firstN, Math.max(1, count));
  const wanted = shift === 'mean' ? sets.shifts : sets.shifts.filter((s) => s.id === shift);
  return boxOf(
    points.map((p) => {
      const x = 100 * p.reference;
      const ys = wanted.map((s) => ({ s, v: Object.hasOwn(p.perSet, s.id) ? p.perSet[s.id]! : NaN })).filter((e) => Number.isFinite(e.v));
      const y = ys.length ? (100 * ys.reduce((a, e) => a + e.v, 0)) / ys.length : 100 * p.shift;
      const xh = hw([varOf(p.reference, sets.reference.count)], 1);
      const yh = ys.length
        ? hw(
            ys.map((e) => varOf(e.v, e.s.count)),
            ys.length,
          )
        : 0;
      return { x, y, xErr: [xh, xh] as [number, number], yErr: [yh, yh] as [number, number] };
    }),
  );
}

/** A side of the plot beyond which a clamped mark goes on. */
export type Side = 'left' | 'right' | 'below' | 'above';

/** Where a mark was cut at the frame: a point on the frame, and the side it goes on beyond. */
export interface Cut {
  x: number;
  y: number;
  side: Side;
}

interface Drawn {
  x: number;
  y: number;
  xErr?: [number, number];
  yErr?: [number, number];
}

/** One axis: the value kept within [lo, hi], its bar cut at the frame, and which ends were cut. */
function clampAxis(
  v: number,
  err: [number, number] | undefined,
  d: Domain,
): { v: number; err?: [number, number]; lo: boolean; hi: boolean } {
  const low = v - (err?.[0] ?? 0);
  const high = v + (err?.[1] ?? 0);
  const c = Math.min(d.hi, Math.max(d.lo, v));
  const cutErr: [number, number] = [Math.max(0, c - Math.max(d.lo, low)), Math.max(0, Math.min(d.hi, high) - c)];
  return { v: c, err: err && cutErr, lo: low < d.lo, hi: high > d.hi };
}

/**
 * A mark held inside the axes, with a Cut where its point or bar was cut at the frame. For a first
 * estimate: its bars (about 3.5× the first pass's, which the axes are sized for) and its scattered
 * point must not widen the axes, or the chart moves twice within a second (when it arrives and when
 * its first pass replaces it). The numbers themselves, with n and interval, stay in the tooltip and
 * the table; the cut marks say the mark goes on beyond the frame.
 */
export function clampToAxes<T extends Drawn>(d: T, axes: { x: Domain; y: Domain }): { datum: T; cuts: Cut[] } {
  const x = clampAxis(d.x, d.xErr, axes.x);
  const y = clampAxis(d.y, d.yErr, axes.y);
  const cuts: Cut[] = [];
  if (x.lo) cuts.push({ x: axes.x.lo, y: y.v, side: 'left' });
  if (x.hi) cuts.push({ x: axes.x.hi, y: y.v, side: 'right' });
  if (y.lo) cuts.push({ x: x.v, y: axes.y.lo, side: 'below' });
  if (y.hi) cuts.push({ x: x.v, y: axes.y.hi, side: 'above' });
  if (cuts.length === 0) return { datum: d, cuts };
  return { datum: { ...d, x: x.v, y: y.v, ...(x.err && { xErr: x.err }), ...(y.err && { yErr: y.err }) }, cuts };
}
