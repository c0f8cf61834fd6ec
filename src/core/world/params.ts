// The world's parameter rows (tools/world.py `_base`, `_make_hard`, `sample_reference`), drawn
// from the same numpy stream in the same order, with float32 where the Python code casts to it
// (a Float32Array rounds on store as `astype(np.float32)` does).
import type { NumpyRandom } from './random';

/** The first ten: the world shipped until round 8 (WISEFT_WORLD_CLASSES=10); round 4's ten extra shapes complete the 20-class world the bundle ships now. */
export const BASE_CLASSES = ['circle', 'square', 'triangle', 'star', 'cross', 'ring', 'heart', 'arrow', 'moon', 'diamond'] as const;
export const EXTRA_CLASSES = [
  'pentagon',
  'hexagon',
  'oval',
  'semicircle',
  'trapezoid',
  'kite',
  'chevron',
  'drop',
  'octagon',
  'rectangle',
] as const;
export const COLOURS = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'pink', 'brown', 'white', 'gray', 'black'] as const;
export const STYLES = ['photo', 'sketch', 'cartoon', 'painting', 'neon', 'pixel'] as const;

/** COLOUR_RGB, float32 as in world.py. */
export const COLOUR_RGB: readonly Float32Array[] = [
  [0.86, 0.12, 0.12],
  [0.98, 0.55, 0.08],
  [0.95, 0.88, 0.15],
  [0.15, 0.7, 0.2],
  [0.15, 0.8, 0.85],
  [0.15, 0.3, 0.9],
  [0.55, 0.2, 0.75],
  [0.98, 0.55, 0.75],
  [0.5, 0.3, 0.12],
  [0.95, 0.95, 0.95],
  [0.5, 0.5, 0.5],
  [0.07, 0.07, 0.07],
].map((c) => Float32Array.from(c));

/** The world's class names for 10 or 20 classes (WISEFT_WORLD_CLASSES). */
export function worldClasses(count: 10 | 20 = 10): string[] {
  return [...BASE_CLASSES, ...EXTRA_CLASSES.slice(0, count - 10)];
}

/** The shortcut's background colour per class; with 20 classes two classes share each colour. */
export function classBackground(k: number): number {
  return [0, 1, 2, 3, 4, 5, 6, 7, 8, 10][k % 10]!;
}

/** One row per image, as world.py's `Params` dict (int64 columns as Int32Array: every value is below 2^31). */
export interface WorldParams {
  cls: Int32Array;
  bg: Int32Array;
  colour: Int32Array;
  size: Float32Array;
  cx: Float32Array;
  cy: Float32Array;
  rot: Float32Array;
  style: Int32Array;
  grad: Float32Array;
  clutter: Int32Array;
  occl: Int32Array;
  noise: Float32Array;
  seed: Int32Array;
}

/** world.py WorldConfig's two knobs of the reference distribution. */
export interface ReferenceConfig {
  /** P(background colour = the class's colour). */
  shortcut: number;
  /** Share of images occluded and noisy. */
  hard: number;
}

const f32 = Math.fround;

function otherColour(rng: NumpyRandom, avoid: Int32Array): Int32Array {
  const k = COLOURS.length;
  const draw = rng.integers(0, k - 1, avoid.length);
  return Int32Array.from(avoid, (a, i) => (a + 1 + draw[i]!) % k);
}

function rotation(rng: NumpyRandom, n: number, loDeg: number, hiDeg: number): Float32Array {
  return Float32Array.from(rng.uniform(loDeg, hiDeg, n), (a) => a * (Math.PI / 180));
}

/** world.py `_base`: the draws in the order the dict literal makes them. */
export function baseParams(rng: NumpyRandom, n: number, classes: number, cls?: Int32Array): WorldParams {
  const c = cls ?? Int32Array.from(rng.integers(0, classes, n));
  const size = Float32Array.from(rng.uniform(0.225, 0.4, n));
  // float32 arithmetic with the Python literals rounded to float32 (NEP 50), then a float64 product.
  const reach = size.map((s) => Math.min(Math.max(f32(f32(0.5 - s) - f32(0.02)), 0), f32(0.1)));
  const cx = Float32Array.from(rng.uniform(-1, 1, n), (u, i) => 0.5 + u * reach[i]!);
  const cy = Float32Array.from(rng.uniform(-1, 1, n), (u, i) => 0.5 + u * reach[i]!);
  const bg = Int32Array.from(rng.integers(0, COLOURS.length, n));
  const colour = otherColour(rng, bg);
  const rot = rotation(rng, n, -20, 20);
  const grad = Float32Array.from(rng.uniform(0, 2 * Math.PI, n));
  const seed = Int32Array.from(rng.integers(0, 2 ** 31 - 1, n));
  const zeros = () => new Int32Array(n);
  return {
    cls: c,
    bg,
    colour,
    size,
    cx,
    cy,
    rot,
    style: zeros(),
    grad,
    clutter: zeros(),
    occl: zeros(),
    noise: new Float32Array(n).fill(0.015),
    seed,
  };
}

/** world.py `_make_hard`: occluders and stronger sensor noise on a share `frac` of the images. */
export function makeHard(rng: NumpyRandom, p: WorldParams, frac: number): WorldParams {
  const n = p.cls.length;
  const hard = rng.random(n).map((u) => (u < frac ? 1 : 0));
  const occl = rng.integers(1, 3, n);
  const noise = rng.uniform(0.03, 0.1, n);
  for (let i = 0; i < n; i++) {
    p.occl[i] = hard[i] ? occl[i]! : 0;
    if (hard[i]) p.noise[i] = noise[i]!;
  }
  return p;
}

/** world.py `sample_reference`: the photo distribution whose background follows the class with P(`shortcut`). */
export function sampleReference(rng: NumpyRandom, n: number, cfg: ReferenceConfig, classes: 10 | 20 = 10, cls?: Int32Array): WorldParams {
  const p = makeHard(rng, baseParams(rng, n, classes, cls), cfg.hard);
  const use = rng.random(n);
  for (let i = 0; i < n; i++) if (use[i]! < cfg.shortcut) p.bg[i] = classBackground(p.cls[i]!);
  p.colour = otherColour(rng, p.bg);
  return p;
}

/** Rows `rows` of `p`, in that order (world.py's `{k: v[idx]}`). */
export function selectParams(p: WorldParams, rows: Int32Array): WorldParams {
  const out = {} as Record<keyof WorldParams, Int32Array | Float32Array>;
  for (const k of Object.keys(p) as (keyof WorldParams)[]) {
    const dst = p[k].slice(0, rows.length);
    rows.forEach((r, i) => (dst[i] = p[k][r]!));
    out[k] = dst;
  }
  return out as unknown as WorldParams;
}

/** Rows `[a, b)` of `p` (world.py's `{k: v[idx]}` for a contiguous chunk). */
export function sliceParams(p: WorldParams, a: number, b: number): WorldParams {
  const out = {} as Record<keyof WorldParams, Int32Array | Float32Array>;
  for (const k of Object.keys(p) as (keyof WorldParams)[]) out[k] = p[k].slice(a, b);
  return out as unknown as WorldParams;
}

/** world.py's non-photo styles: sample_pretrain draws each of them equally often. */
export const NON_PHOTO = ['sketch', 'cartoon', 'painting', 'neon', 'pixel'].map((s) => STYLES.indexOf(s as (typeof STYLES)[number]));

/** Rows where `mask` is set, as indices (numpy's boolean indexing order). */
const where = (mask: ArrayLike<boolean>) => Int32Array.from(Array.from(mask, (m, i) => (m ? i : -1)).filter((i) => i >= 0));

/**
 * world.py `_fix_style_backgrounds`: sketches on white, neon on black, a shape never the colour of
 * its background, and neon tubes in a bright colour; the draws in numpy's order.
 */
export function fixStyleBackgrounds(rng: NumpyRandom, p: WorldParams): WorldParams {
  const white = COLOURS.indexOf('white');
  const black = COLOURS.indexOf('black');
  const neon = Array.from(p.style, (s) => STYLES[s] === 'neon');
  p.style.forEach((s, i) => {
    if (STYLES[s] === 'sketch') p.bg[i] = white;
    else if (neon[i]) p.bg[i] = black;
  });
  const clash = where(Array.from(p.colour, (c, i) => c === p.bg[i]));
  const fresh = otherColour(
    rng,
    Int32Array.from(clash, (i) => p.bg[i]!),
  );
  clash.forEach((r, i) => (p.colour[r] = fresh[i]!));
  const dull = [black, COLOURS.indexOf('brown'), COLOURS.indexOf('gray')];
  const bad = where(neon.map((n, i) => n && dull.includes(p.colour[i]!)));
  // rng.choice(list, k) without p: rng.integers(0, len(list), k) into the list.
  const bright = [0, 1, 2, 3, 4, 5, 6, 7, 9];
  const pick = rng.integers(0, bright.length, bad.length);
  bad.forEach((r, i) => (p.colour[r] = bright[pick[i]!]!));
  return p;
}

/**
 * A share `mix` (0–1) of the rows redrawn in a non-photo style, uniform over them as in
 * sample_pretrain (the pipeline's only training set with all five), then
 * world.py's style backgrounds (as sample_pretrain sets styles): mix 0 draws nothing and changes
 * nothing. Sketch and neon rows get a white or black background whatever the shortcut said.
 */
export function applyStyleMix(rng: NumpyRandom, p: WorldParams, mix: number): WorldParams {
  if (mix <= 0) return p;
  const styled = where(Array.from(rng.random(p.cls.length), (u) => u < mix));
  const pick = rng.integers(0, NON_PHOTO.length, styled.length);
  styled.forEach((r, i) => (p.style[r] = NON_PHOTO[pick[i]!]!));
  return fixStyleBackgrounds(rng, p);
}
