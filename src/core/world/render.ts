// tools/world.py `render` / `_render_chunk`: 2× supersampled shapes on a gradient background with
// clutter behind, drawn in a style (the photo style, the reference distribution's only one, here:
// shading, specular highlight, drop shadow; the others in styles.ts and painting.ts),
// background-coloured occluders over, a 2×2 mean, then sensor noise.
// numpy draws everything a chunk needs vectorised (painting's wobble, clutter, painting's texture,
// occluders, then one standard_normal for the whole chunk's noise); this draws the same values in the same order, then renders one
// image at a time, so a chunk of 1,024 images never holds more than one supersampled image.
import { COLOUR_RGB, STYLES, selectParams, type WorldParams } from './params';
import { cartoon, neon, pixelArt, sketch } from './styles';
import { NumpyRandom } from './random';
import { TEXTURE_GRID, WOBBLE_GRID, lowFrequency, painting, wobble } from './painting';
import { insideShape } from './shapes';

export const IMAGE_SIZE = 32;
const SUPER = 2;
const S = IMAGE_SIZE * SUPER;
const PIXELS = IMAGE_SIZE * IMAGE_SIZE * 3;
/** world.py render's default chunk: the per-chunk stream depends on it. */
export const RENDER_CHUNK = 1024;
const f = Math.fround;
const K = {
  half: f(0.5),
  bg035: f(0.35),
  bg004: f(0.04),
  cl09: f(0.9),
  cl005: f(0.05),
  cl22: f(2.2),
  cl0025: f(0.025),
  shade078: f(0.78),
  shade03: f(0.3),
  spec035: f(0.35),
  spec006: f(0.06),
  shadow06: f(0.6),
};
/** Supersample centres, float32 as np.arange(S, dtype=float32) + 0.5) / S. */
const COORDS = Float32Array.from({ length: S }, (_, i) => (i + 0.5) / S);
/** Pixel art samples the shape at the centres of 4×4-sample blocks (every step exact in float32). */
const BLOCK = 2 * SUPER;
const BLOCK_COORDS = COORDS.map((x) => (Math.floor((x * S) / BLOCK) * BLOCK + BLOCK / 2) / S);

interface Clutter {
  ax: Float32Array;
  ay: Float32Array;
  rad: Float32Array;
  colour: Float64Array;
  bar: Float64Array;
}
interface Occluder {
  ox: Float32Array;
  oy: Float32Array;
  rad: Float32Array;
}

/** A painting chunk's `_lowfreq` normals: `grid`×`grid` float32 per image. */
interface Grids {
  grid: number;
  values: Float32Array;
}
interface ChunkDraws {
  wobble: Grids | null;
  clutter: Clutter[];
  texture: Grids | null;
  occluders: Occluder[];
}

/** The chunk's vectorised draws, in world.py's order: painting's wobble, clutter, painting's texture, occluders. */
function chunkDraws(p: WorldParams, rng: NumpyRandom, isPainting: boolean): ChunkDraws {
  const n = p.cls.length;
  const grids = (grid: number): Grids | null =>
    isPainting ? { grid, values: Float32Array.from(rng.standardNormal(n * grid * grid)) } : null;
  const wobbleGrids = grids(WOBBLE_GRID);
  const clutter = clutterDraws(p, rng);
  const texture = grids(TEXTURE_GRID);
  return { wobble: wobbleGrids, clutter, texture, occluders: occluderDraws(p, rng) };
}

/** Image `i`'s grid of normals. */
const gridOf = (g: Grids, i: number) => g.values.subarray(i * g.grid * g.grid, (i + 1) * g.grid * g.grid);

/** Four clutter rounds if any row is cluttered (world.py draws them for the whole chunk). */
function clutterDraws(p: WorldParams, rng: NumpyRandom): Clutter[] {
  const n = p.cls.length;
  const clutter: Clutter[] = [];
  if (p.clutter.some((c) => c !== 0)) {
    for (let k = 0; k < 4; k++) {
      const a = Float32Array.from(rng.uniform(0, 1, 2 * n));
      const rad = Float32Array.from(rng.uniform(0.04, 0.09, n));
      const colour = rng.integers(0, COLOUR_RGB.length, n);
      clutter.push({ ax: a.subarray(0, n), ay: a.subarray(n), rad, colour, bar: rng.random(n) });
    }
  }
  return clutter;
}

/** One round of occluders per occluder the most occluded row has. */
function occluderDraws(p: WorldParams, rng: NumpyRandom): Occluder[] {
  const n = p.cls.length;
  const occluders: Occluder[] = [];
  const rounds = p.occl.reduce((m, o) => Math.max(m, o), 0);
  for (let r = 0; r < rounds; r++) {
    const ox = Float32Array.from(rng.uniform(-0.8, 0.8, n), (d, i) => p.cx[i]! + f(f(d) * p.size[i]!));
    const oy = Float32Array.from(rng.uniform(-0.8, 0.8, n), (d, i) => p.cy[i]! + f(f(d) * p.size[i]!));
    const rad = Float32Array.from(rng.uniform(0.25, 0.45, n), (d, i) => f(d) * p.size[i]!);
    occluders.push({ ox, oy, rad });
  }
  return occluders;
}

/**
 * Object coordinates (u, v) and the class mask at every supersample of image `i`, sampled at `coords`;
 * painting's `wob` [S, S] moves x by wob[y, x] and y by wob[x, y] (world.py adds it and its transpose).
 */
function shapeMask(p: WorldParams, i: number, coords = COORDS, wob?: Float32Array): { u: Float32Array; v: Float32Array; mask: Uint8Array } {
  const u = new Float32Array(S * S);
  const v = new Float32Array(S * S);
  const mask = new Uint8Array(S * S);
  const c = f(Math.cos(p.rot[i]!));
  const s = f(Math.sin(p.rot[i]!));
  const sz = p.size[i]!;
  const k = p.cls[i]!;
  for (let y = 0; y < S; y++) {
    const dy0 = f(coords[y]! - p.cy[i]!);
    for (let x = 0; x < S; x++) {
      const dx = wob ? f(f(coords[x]! - p.cx[i]!) + wob[y * S + x]!) : f(coords[x]! - p.cx[i]!);
      const dy = wob ? f(dy0 + wob[x * S + y]!) : dy0;
      const ui = f(f(f(c * dx) + f(s * dy)) / sz);
      const vi = -f(f(f(-s * dx) + f(c * dy)) / sz);
      const at = y * S + x;
      u[at] = ui;
      v[at] = vi;
      mask[at] = insideShape(k, ui, vi, f(Math.sqrt(f(f(ui * ui) + f(vi * vi))))) ? 1 : 0;
    }
  }
  return { u, v, mask };
}

/** The background's gradient at every supersample: its direction `grad`, zero at the centre. */
function gradientRamp(p: WorldParams, i: number): Float32Array {
  const cg = f(Math.cos(p.grad[i]!));
  const sg = f(Math.sin(p.grad[i]!));
  const ramp = new Float32Array(S * S);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) ramp[y * S + x] = f(cg * f(COORDS[x]! - K.half)) + f(sg * f(COORDS[y]! - K.half));
  return ramp;
}

/** The gradient background with clutter drawn on it: [S, S, 3] float32. */
function background(p: WorldParams, i: number, clutter: Clutter[], ramp: Float32Array): Float32Array {
  const out = new Float32Array(S * S * 3);
  const bgc = COLOUR_RGB[p.bg[i]!]!;
  const cluttered = p.clutter[i] !== 0;
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const r = ramp[y * S + x]!;
      const at = (y * S + x) * 3;
      for (let ch = 0; ch < 3; ch++) out[at + ch] = f(bgc[ch]! * f(1 + f(K.bg035 * r))) + f(K.bg004 * r);
      if (cluttered) for (const c of clutter) clutterAt(c, i, COORDS[x]!, COORDS[y]!, out, at);
    }
  return out;
}

function clutterAt(c: Clutter, i: number, X: number, Y: number, out: Float32Array, at: number): void {
  const ax = c.ax[i]!;
  const ay = c.ay[i]!;
  const rad = c.rad[i]!;
  const ddx = f(X - ax);
  const ddy = f(Y - ay);
  const inside =
    c.bar[i]! < 0.5 ? Math.abs(ddx) < f(rad * K.cl22) && Math.abs(ddy) < K.cl0025 : f(f(ddx * ddx) + f(ddy * ddy)) < f(rad * rad);
  if (!inside) return;
  const col = COLOUR_RGB[c.colour[i]!]!;
  for (let ch = 0; ch < 3; ch++) out[at + ch] = f(col[ch]! * K.cl09) + K.cl005;
}

/** The photo style's supersampled image [S, S, 3]: lit from the top left, highlight, drop shadow. */
function photo(p: WorldParams, i: number, clutter: Clutter[]): Float32Array {
  const { u, v, mask } = shapeMask(p, i);
  const img = background(p, i, clutter, gradientRamp(p, i));
  const col = COLOUR_RGB[p.colour[i]!]!;
  const shift = 2 * SUPER;
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const at = y * S + x;
      if (mask[at]) {
        const ui = u[at]!;
        const vi = v[at]!;
        const lit = Math.min(Math.max(f(-f(ui - vi) * K.half), -1), 1);
        const shade = f(K.shade078 + f(K.shade03 * lit));
        const d = f(f(f(ui + K.spec035) ** 2) + f(f(vi - K.spec035) ** 2));
        const spec = f(Math.exp(f(-d / K.spec006)));
        for (let ch = 0; ch < 3; ch++) {
          const value = f(f(col[ch]! * shade) + f(f(K.spec035 * spec) * f(1 - col[ch]!)));
          img[at * 3 + ch] = Math.min(Math.max(value, 0), 1);
        }
      } else if (mask[((y - shift + S) % S) * S + ((x - shift + S) % S)]) {
        for (let ch = 0; ch < 3; ch++) img[at * 3 + ch] = f(img[at * 3 + ch]! * K.shadow06);
      }
    }
  return img;
}

/** Background-coloured discs over the object (world.py's occluders), in place. */
function occlude(p: WorldParams, i: number, occluders: Occluder[], img: Float32Array): void {
  const bgc = COLOUR_RGB[p.bg[i]!]!;
  occluders.forEach((o, r) => {
    if (!(p.occl[i]! > r)) return;
    const rr = f(o.rad[i]! * o.rad[i]!);
    for (let y = 0; y < S; y++) {
      const ddy = f(COORDS[y]! - o.oy[i]!);
      for (let x = 0; x < S; x++) {
        const ddx = f(COORDS[x]! - o.ox[i]!);
        if (f(f(ddx * ddx) + f(ddy * ddy)) < rr) img.set(bgc, (y * S + x) * 3);
      }
    }
  });
}

/** Image `i` of a chunk of style `style`, supersampled [S, S, 3], before occluders and noise. */
function styled(style: number, p: WorldParams, i: number, draws: ChunkDraws): Float32Array {
  const { clutter } = draws;
  const col = COLOUR_RGB[p.colour[i]!]!;
  const bgc = COLOUR_RGB[p.bg[i]!]!;
  switch (STYLES[style]) {
    case 'photo':
      return photo(p, i, clutter);
    case 'cartoon':
      return cartoon(shapeMask(p, i).mask, col, bgc);
    case 'sketch':
      return sketch(shapeMask(p, i).mask, col, gradientRamp(p, i), COORDS);
    case 'neon':
      return neon(shapeMask(p, i).mask, col, background(p, i, clutter, gradientRamp(p, i)));
    case 'pixel':
      return pixelArt(shapeMask(p, i, BLOCK_COORDS).mask, col, bgc);
    case 'painting': {
      const mask = shapeMask(p, i, COORDS, wobble(gridOf(draws.wobble!, i))).mask;
      return painting(mask, col, bgc, lowFrequency(gridOf(draws.texture!, i), TEXTURE_GRID), p.grad[i]!, COORDS);
    }
    default:
      throw new RangeError(`the world has no style number ${style}`);
  }
}

/** 2×2 mean in numpy's summation order, sensor noise from the chunk's stream (drawn, not added, for pixel art), rounded to bytes. */
function finish(img: Float32Array, noiseStd: number, rng: NumpyRandom, out: Uint8Array, offset: number, pixel: boolean): void {
  const z = rng.standardNormal(PIXELS);
  if (pixel) noiseStd = 0;
  for (let y = 0; y < IMAGE_SIZE; y++)
    for (let x = 0; x < IMAGE_SIZE; x++)
      for (let ch = 0; ch < 3; ch++) {
        const a = (2 * y * S + 2 * x) * 3 + ch;
        const b = a + S * 3;
        const mean = f(f(f(f(img[a]! + img[a + 3]!) + img[b]!) + img[b + 3]!) / 4);
        const o = (y * IMAGE_SIZE + x) * 3 + ch;
        const noisy = f(mean + f(f(z[o]!) * noiseStd));
        out[offset + o] = Math.floor(f(f(Math.min(Math.max(noisy, 0), 1) * 255) + K.half));
      }
}

/**
 * world.py `_render_chunk` for a chunk of single-style rows: [n, 32, 32, 3] bytes, one image at a time into `out`.
 * `onImage` hears of each image done: a chunk is one stream, so it cannot be split for progress, only watched.
 */
export function renderChunk(p: WorldParams, rng: NumpyRandom, out: Uint8Array, offset = 0, onImage?: () => void): void {
  const style = p.style[0] ?? 0;
  if (p.style.some((s) => s !== style)) throw new RangeError('render chunks are single-style');
  const draws = chunkDraws(p, rng, STYLES[style] === 'painting');
  for (let i = 0; i < p.cls.length; i++) {
    const img = styled(style, p, i, draws);
    occlude(p, i, draws.occluders, img);
    finish(img, p.noise[i]!, rng, out, offset + i * PIXELS, STYLES[style] === 'pixel');
    onImage?.();
  }
}

/** The stream world.py seeds for the rows `rows` of one style in chunk [a, b): their first four seeds, a, b and the style. */
export function chunkRandom(p: WorldParams, a: number, b: number, style: number, rows?: Int32Array): NumpyRandom {
  const seeds = rows ? Array.from(rows.subarray(0, 4), (r) => p.seed[r]!) : Array.from(p.seed.subarray(a, Math.min(a + 4, b)));
  return new NumpyRandom([...seeds, a, b, style]);
}

/**
 * world.py `render` for the rows [a, b) of `p` (one chunk), split by style as numpy does, into `out` ([b − a, 32, 32, 3]);
 * `onImage` hears of each image done.
 */
export function renderRows(p: WorldParams, a: number, b: number, out: Uint8Array, onImage?: () => void): void {
  const unknown = p.style.subarray(a, b).find((s) => !(s >= 0 && s < STYLES.length));
  if (unknown !== undefined)
    throw new RangeError(`the world has no style number ${unknown} (it has ${STYLES.length}: ${STYLES.join(', ')})`);
  for (let style = 0; style < STYLES.length; style++) {
    const rows = Int32Array.from({ length: b - a }, (_, i) => a + i).filter((r) => p.style[r] === style);
    if (rows.length === 0) continue;
    const part = new Uint8Array(rows.length * PIXELS);
    renderChunk(selectParams(p, rows), chunkRandom(p, a, b, style, rows), part, 0, onImage);
    rows.forEach((r, i) => out.set(part.subarray(i * PIXELS, (i + 1) * PIXELS), (r - a) * PIXELS));
  }
}

/** world.py `render`: uint8 images [n, 32, 32, 3], each chunk of `chunk` rows split by style as numpy does. */
export function render(p: WorldParams, chunk = RENDER_CHUNK): Uint8Array {
  const n = p.cls.length;
  const out = new Uint8Array(n * PIXELS);
  for (let a = 0; a < n; a += chunk) {
    const b = Math.min(n, a + chunk);
    renderRows(p, a, b, out.subarray(a * PIXELS, b * PIXELS));
  }
  return out;
}
