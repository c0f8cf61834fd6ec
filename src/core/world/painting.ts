// world.py's painting style: edges wobbled and fill and background textured by `_lowfreq`, smooth
// noise from a small grid of normals, and brush streaks along the background's gradient.
// `_lowfreq` is np.einsum("ij,njk,lk->nil", m, g, m) in float32. With numpy's default
// (optimize=False) the einsum is one three-operand loop: for each output element, j outer, k inner,
// it adds (m[i,j] · g[j,k]) · m[l,k] to a float32 sum starting at 0. Checked on numpy 2.4: that order
// gives every bit (tools/world_fixture.py --painting; tests/unit/core/world/render.test.ts); any other
// order (k outer, or the separable two-step product) differs in a fifth of the samples.
import { GRID } from './styles';

const f = Math.fround;
const K = {
  wobble: f(0.018),
  objTexture: f(0.18),
  objStreak: f(0.05),
  bgTexture: f(0.22),
  bgStreak: f(0.06),
  streak09: f(0.9),
};
/** The grids `_lowfreq` draws: 6×6 for the edges' wobble, 5×5 for the texture. */
export const WOBBLE_GRID = 6;
export const TEXTURE_GRID = 5;

/** world.py `_interp_matrix(src, GRID)`: float32 [GRID, src] linear interpolation weights. */
function interpMatrix(src: number): Float32Array {
  const m = new Float32Array(GRID * src);
  const step = (src - 1) / (GRID - 1);
  for (let i = 0; i < GRID; i++) {
    // np.linspace: i · step, its last value set to the stop exactly.
    const pos = i === GRID - 1 ? src - 1 : i * step;
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, src - 1);
    const w = pos - lo;
    m[i * src + lo] = f(m[i * src + lo]! + (1 - w));
    m[i * src + hi] = f(m[i * src + hi]! + w);
  }
  return m;
}
/** Each row's nonzero weights (at most two), in column order: `at` the columns, `w` the weights. */
interface SparseRow {
  at: number[];
  w: number[];
}

/**
 * The matrix's rows without their zeros. A term with a zero weight is ±0, and adding ±0 to the
 * float32 sum changes no bit of it (the sum starts at +0 and is never −0), so the einsum's sum over
 * the two or four nonzero terms, in its order, is its sum over all 25 or 36.
 */
function sparseRows(src: number): SparseRow[] {
  const m = interpMatrix(src);
  return Array.from({ length: GRID }, (_, i) => {
    const row: SparseRow = { at: [], w: [] };
    for (let j = 0; j < src; j++)
      if (m[i * src + j] !== 0) {
        row.at.push(j);
        row.w.push(m[i * src + j]!);
      }
    return row;
  });
}
const ROWS = new Map([WOBBLE_GRID, TEXTURE_GRID].map((g) => [g, sparseRows(g)]));

/** world.py `_lowfreq` for one image: its `grid`×`grid` float32 normals `g` smoothed to [GRID, GRID]. */
export function lowFrequency(g: Float32Array, grid: number): Float32Array {
  const rows = ROWS.get(grid);
  if (!rows) throw new RangeError(`no interpolation matrix for a ${grid}×${grid} grid`);
  const out = new Float32Array(GRID * GRID);
  for (let i = 0; i < GRID; i++) {
    const ri = rows[i]!;
    for (let l = 0; l < GRID; l++) {
      const rl = rows[l]!;
      let sum = 0;
      for (let a = 0; a < ri.at.length; a++)
        for (let b = 0; b < rl.at.length; b++) sum = f(sum + f(f(ri.w[a]! * g[ri.at[a]! * grid + rl.at[b]!]!) * rl.w[b]!));
      out[i * GRID + l] = sum;
    }
  }
  return out;
}

/** The edges' wobble (`_lowfreq(…, 6) · 0.018`) for one image's 6×6 normals. */
export function wobble(g: Float32Array): Float32Array {
  return lowFrequency(g, WOBBLE_GRID).map((w) => f(w * K.wobble));
}

/** Textured fill and background with brush streaks across the gradient direction `grad`. */
export function painting(
  mask: Uint8Array,
  col: Float32Array,
  bgc: Float32Array,
  tex: Float32Array,
  grad: number,
  coords: Float32Array,
): Float32Array {
  const cg = f(Math.cos(grad));
  const sg = f(Math.sin(grad));
  const img = new Float32Array(GRID * GRID * 3);
  for (let y = 0; y < GRID; y++)
    for (let x = 0; x < GRID; x++) {
      const at = y * GRID + x;
      const streak = f(Math.sin(f(f(f(f(coords[x]! * cg) + f(coords[y]! * sg)) * GRID) * K.streak09)));
      const [base, texture, streaks] = mask[at] ? [col, K.objTexture, K.objStreak] : [bgc, K.bgTexture, K.bgStreak];
      const shade = f(1 + f(texture * tex[at]!));
      const stroke = f(streaks * streak);
      for (let ch = 0; ch < 3; ch++) img[at * 3 + ch] = Math.min(Math.max(f(f(base[ch]! * shade) + stroke), 0), 1);
    }
  return img;
}
