/**
 * 95% Wilson score interval for a binomial proportion. Chosen over the normal approximation
 * because the eval sets are small and accuracies sit near 0 or 1, where the Wald interval
 * collapses to zero width or leaves [0, 1].
 */
export function wilson(correct: number, n: number, z = 1.959963984540054): { low: number; high: number } {
  if (n <= 0) return { low: 0, high: 1 };
  const p = correct / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

const Z95 = 1.959963984540054;

/**
 * Which images of one set were predicted right at one α: image i is bit (i & 7) of byte i >> 3.
 * `seen` marks the images evaluated so far (whole chunks), `correct` those of them predicted right;
 * both are ceil(count / 8) bytes. Small (125 bytes per 1,000 images), so they travel with the counts.
 */
export interface ImageCorrectness {
  correct: Uint8Array;
  seen: Uint8Array;
}

export function emptyCorrectness(count: number): ImageCorrectness {
  const bytes = Math.ceil(count / 8);
  return { correct: new Uint8Array(bytes), seen: new Uint8Array(bytes) };
}

/** Marks images start … start + hits.length − 1 as seen, and right where `hits` is non-zero. */
export function markImages(bits: ImageCorrectness, start: number, hits: ArrayLike<number>): void {
  for (let i = 0; i < hits.length; i++) {
    const image = start + i;
    const byte = image >> 3;
    const mask = 1 << (image & 7);
    bits.seen[byte]! |= mask;
    if (hits[i]) bits.correct[byte]! |= mask;
    else bits.correct[byte]! &= ~mask;
  }
}

function popcount(byte: number): number {
  let n = 0;
  for (let b = byte; b; b &= b - 1) n++;
  return n;
}

/**
 * The paired 2×2 table of two α on the same set, over the images evaluated at both: right at both,
 * right only at `a`, right only at `b`, wrong at both.
 */
export interface PairedTable {
  both: number;
  onlyA: number;
  onlyB: number;
  neither: number;
}

export function pairedTable(a: ImageCorrectness, b: ImageCorrectness): PairedTable {
  const t = { both: 0, onlyA: 0, onlyB: 0, neither: 0 };
  const bytes = Math.min(a.seen.length, b.seen.length, a.correct.length, b.correct.length);
  for (let i = 0; i < bytes; i++) {
    const seen = a.seen[i]! & b.seen[i]!;
    if (!seen) continue;
    const ra = a.correct[i]! & seen;
    const rb = b.correct[i]! & seen;
    t.both += popcount(ra & rb);
    t.onlyA += popcount(ra & ~rb & 0xff);
    t.onlyB += popcount(rb & ~ra & 0xff);
    t.neither += popcount(seen & ~(ra | rb) & 0xff);
  }
  return t;
}

/** A difference of accuracies (a − b, as fractions) with its 95% interval, over `n` paired images. */
export interface PairedDifference {
  diff: number;
  lo: number;
  hi: number;
  n: number;
}

/**
 * 95% interval for the difference of two paired proportions, p_a − p_b, by Newcombe's hybrid
 * score ("square-and-add") method, method 10 of R. G. Newcombe, "Improved confidence intervals for
 * the difference between binomial proportions based on paired data", Statistics in Medicine 17
 * (1998) 2635–2650, as recommended by Fagerland, Lydersen & Laake, "Recommended tests and confidence
 * intervals for paired binomial proportions", Statistics in Medicine 33 (2014) 2850–2875. Each
 * accuracy gets its Wilson interval; their distances from the estimates are combined as for a
 * difference of correlated estimates, with φ the phi coefficient of the paired table (set to 0 for
 * 0 ≤ ad − bc ≤ n/2 and shrunk by n/2 above, Newcombe's correction). Unlike Wald on the discordant
 * pairs it never has zero width when they are few, and it stays inside [−1, 1].
 * Null with no paired image.
 */
export function newcombePaired(t: PairedTable, z = Z95): PairedDifference | null {
  const n = t.both + t.onlyA + t.onlyB + t.neither;
  if (n === 0) return null;
  const rightA = t.both + t.onlyA;
  const rightB = t.both + t.onlyB;
  const pa = rightA / n;
  const pb = rightB / n;
  const ca = wilson(rightA, n, z);
  const cb = wilson(rightB, n, z);
  let phi = 0;
  const margins = rightA * (n - rightA) * rightB * (n - rightB);
  if (margins > 0) {
    const cross = t.both * t.neither - t.onlyA * t.onlyB;
    phi = cross > n / 2 ? (cross - n / 2) / Math.sqrt(margins) : cross < 0 ? cross / Math.sqrt(margins) : 0;
  }
  const diff = pa - pb;
  const down = [pa - ca.low, cb.high - pb] as const;
  const up = [ca.high - pa, pb - cb.low] as const;
  const lo = diff - Math.sqrt(Math.max(0, down[0] ** 2 + down[1] ** 2 - 2 * phi * down[0] * down[1]));
  const hi = diff + Math.sqrt(Math.max(0, up[0] ** 2 + up[1] ** 2 - 2 * phi * up[0] * up[1]));
  return { diff, lo: Math.max(-1, lo), hi: Math.min(1, hi), n };
}

/** a − b over the images evaluated at both, with its paired 95% interval (`newcombePaired`). */
export function pairedDifference(a: ImageCorrectness, b: ImageCorrectness): PairedDifference | null {
  return newcombePaired(pairedTable(a, b));
}

/**
 * The mean of independent sets' differences (the paper's "avg shifts"), its interval recovered from
 * theirs (MOVER: G. Y. Zou & A. Donner, "Construction of confidence limits about effect measures: a
 * general approach", Statistics in Medicine 27 (2008) 1693–1702; the principle Newcombe's interval
 * itself rests on): each side is the root of the summed squared distances, divided by k.
 */
export function meanPairedDifference(diffs: readonly PairedDifference[]): PairedDifference | null {
  if (diffs.length === 0) return null;
  const k = diffs.length;
  let diff = 0;
  let down = 0;
  let up = 0;
  let n = 0;
  for (const d of diffs) {
    diff += d.diff / k;
    down += ((d.diff - d.lo) / k) ** 2;
    up += ((d.hi - d.diff) / k) ** 2;
    n += d.n;
  }
  return { diff, lo: diff - Math.sqrt(down), hi: diff + Math.sqrt(up), n };
}

/** The interval lies wholly on one side of 0: the difference is significant at the 5% level. */
export function excludesZero(d: PairedDifference): boolean {
  return d.lo > 0 || d.hi < 0;
}
