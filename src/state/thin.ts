// Aggregates over arrays of any length without spreading them into arguments (Math.min(...xs)
// overflows the call stack near 62,000 numbers and took the whole page down), and curves thinned
// to what a chart can show: an imported sweep of 50,000 α values drew 50,000 SVG paths and froze
// the page for 15 s. The table and exports keep the full data; only what is drawn is thinned.

/** Points per imported series on the chart: far more than a chart's width can tell apart. */
export const MAX_CHART_POINTS = 300;

/** [min, max] of the finite values, or null when there are none. A loop: no argument spreading. */
export function extent(values: Iterable<number>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * At most `max` points of a curve given in α order, keeping its shape: largest-triangle-three-
 * buckets (each bucket keeps the point that makes the largest triangle with its neighbours, so
 * bends and peaks survive), plus the endpoints and the best point on each axis, which a frontier
 * is read by.
 */
export function thinCurve<T extends { x: number; y: number }>(points: readonly T[], max = MAX_CHART_POINTS): T[] {
  const n = points.length;
  if (n <= max || max < 3) return points.slice();
  const keep = new Set<number>([0, n - 1, ...bestOnEachAxis(points)]);
  const buckets = max - keep.size;
  const size = (n - 2) / buckets;
  let a = 0;
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor(b * size);
    const end = Math.min(n - 1, 1 + Math.floor((b + 1) * size));
    // The next bucket's average is the third corner of the triangle.
    const third = meanPoint(points, end, Math.min(n, 1 + Math.floor((b + 2) * size)));
    a = largestTriangle(points, points[a]!, third, start, end);
    keep.add(a);
  }
  return [...keep].sort((i, j) => i - j).map((i) => points[i]!);
}

function bestOnEachAxis(points: readonly { x: number; y: number }[]): [number, number] {
  let bestX = 0;
  let bestY = 0;
  for (let i = 1; i < points.length; i++) {
    if (points[i]!.x > points[bestX]!.x) bestX = i;
    if (points[i]!.y > points[bestY]!.y) bestY = i;
  }
  return [bestX, bestY];
}

function meanPoint(points: readonly { x: number; y: number }[], from: number, to: number): { x: number; y: number } {
  let x = 0;
  let y = 0;
  for (let j = from; j < to; j++) {
    x += points[j]!.x;
    y += points[j]!.y;
  }
  const cnt = Math.max(1, to - from);
  return { x: x / cnt, y: y / cnt };
}

/** The index in [start, end) whose point makes the largest triangle with `pa` and `third`. */
function largestTriangle(
  points: readonly { x: number; y: number }[],
  pa: { x: number; y: number },
  third: { x: number; y: number },
  start: number,
  end: number,
): number {
  let best = start;
  let bestArea = -1;
  for (let j = start; j < end; j++) {
    const p = points[j]!;
    const area = Math.abs((pa.x - third.x) * (p.y - pa.y) - (pa.x - p.x) * (third.y - pa.y));
    if (area > bestArea) {
      bestArea = area;
      best = j;
    }
  }
  return best;
}

/** "a, b, c, d, e and 9,995 more": a list for a message that stays readable whatever its length. */
export function listSome(items: readonly string[], shown = 5, maxChars = 40): string {
  const head = items
    .slice(0, shown)
    .map((s) => isolate(s, maxChars))
    .join(', ');
  return items.length > shown ? `${head} and ${(items.length - shown).toLocaleString('en')} more` : head;
}

/**
 * A user string for plain text (toasts, SVG labels, <option>s, where <bdi> cannot go): cut to
 * `max` characters and wrapped in Unicode isolates (FSI … PDI), so right-to-left overrides in a
 * set name cannot reverse the app's own text around it ("segami 003").
 */
export function isolate(text: string, max = 60): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  // Plain left-to-right text is left as it is (and stays findable by its own characters).
  return BIDI.test(cut) ? `\u2068${cut}\u2069` : cut;
}

/** Characters that change direction: right-to-left scripts, marks, embeddings, overrides, isolates. */
const BIDI = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\u{10800}-\u{10fff}\u{1e800}-\u{1efff}]/u;
