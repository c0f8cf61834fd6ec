// The world's non-photo styles (tools/world.py `_render_chunk`): cartoon, sketch, neon and pixel
// art, each from the shape mask on the 64×64 supersampling grid, float32 as numpy computes them.
// Painting, whose textures are float32 `einsum` sums, is in painting.ts.
const f = Math.fround;
/** The supersampling grid's side (IMAGE_SIZE × SUPER). */
export const GRID = 64;
const K = {
  cartoon105: f(1.05),
  outline005: f(0.05),
  paper093: f(0.93),
  paper003: f(0.03),
  hatch14: f(1.4),
  hatch055: f(0.55),
  hatch078: f(0.78),
  pencil025: f(0.25),
  pencil03: f(0.3),
  dark05: f(0.5),
  dark003: f(0.03),
  glow16: f(1.6),
  tube045: f(0.45),
  tube055: f(0.55),
  pixel045: f(0.45),
};

/** world.py `_erode`: the mask where it and its four neighbours `t` away (wrapping, as np.roll) are all set. */
export function erode(mask: Uint8Array, t: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  const at = (y: number, x: number) => mask[((y + GRID) % GRID) * GRID + ((x + GRID) % GRID)]!;
  for (let y = 0; y < GRID; y++)
    for (let x = 0; x < GRID; x++) out[y * GRID + x] = at(y, x) & at(y - t, x) & at(y + t, x) & at(y, x - t) & at(y, x + t);
  return out;
}

/** The mask's outline `t` samples thick: set where the mask is and its erosion is not. */
function outline(mask: Uint8Array, t: number): Uint8Array {
  const inner = erode(mask, t);
  return mask.map((m, i) => m & (1 - inner[i]!));
}

/** Flat fill, a thick black outline, a flat background. */
export function cartoon(mask: Uint8Array, col: Float32Array, bgc: Float32Array): Float32Array {
  const thick = outline(mask, 3);
  const img = new Float32Array(GRID * GRID * 3);
  for (let i = 0; i < mask.length; i++)
    for (let ch = 0; ch < 3; ch++)
      img[i * 3 + ch] = thick[i] ? K.outline005 : mask[i] ? Math.min(Math.max(f(col[ch]! * K.cartoon105), 0), 1) : bgc[ch]!;
  return img;
}

/** A dark colour-tinted pencil outline and hatching on paper; `ramp` is the background's gradient at each sample. */
export function sketch(mask: Uint8Array, col: Float32Array, ramp: Float32Array, coords: Float32Array): Float32Array {
  const edge = outline(mask, 2);
  const img = new Float32Array(GRID * GRID * 3);
  for (let y = 0; y < GRID; y++)
    for (let x = 0; x < GRID; x++) {
      const i = y * GRID + x;
      const paper = f(K.paper093 + f(K.paper003 * ramp[i]!));
      const hatch = mask[i] && f(Math.sin(f(f(f(coords[x]! + coords[y]!) * GRID) * K.hatch14))) > K.hatch055;
      for (let ch = 0; ch < 3; ch++)
        img[i * 3 + ch] = edge[i] ? f(K.pencil025 + f(K.pencil03 * col[ch]!)) : hatch ? f(paper * K.hatch078) : paper;
    }
  return img;
}

/** world.py `_blur` of the outline, radius 3: the sums are whole numbers, exact in any order. */
function glow(edge: Uint8Array): Float32Array {
  const at = (y: number, x: number) => edge[((y + GRID) % GRID) * GRID + ((x + GRID) % GRID)]!;
  const out = new Float32Array(edge.length);
  for (let y = 0; y < GRID; y++)
    for (let x = 0; x < GRID; x++) {
      let sum = at(y, x);
      for (let d = 1; d <= 3; d++) sum += at(y - d, x) + at(y + d, x) + at(y, x - d) + at(y, x + d);
      out[y * GRID + x] = sum / 13;
    }
  return out;
}

/** A glowing outline tube on the darkened background `bg` (clutter included). */
export function neon(mask: Uint8Array, col: Float32Array, bg: Float32Array): Float32Array {
  const edge = outline(mask, 2);
  const light = glow(edge);
  const img = new Float32Array(GRID * GRID * 3);
  for (let i = 0; i < mask.length; i++)
    for (let ch = 0; ch < 3; ch++) {
      const dark = f(f(bg[i * 3 + ch]! * K.dark05) + K.dark003);
      const tube = edge[i] ? f(K.tube045 + f(K.tube055 * col[ch]!)) : 0;
      img[i * 3 + ch] = Math.min(Math.max(f(f(dark + f(f(col[ch]! * light[i]!) * K.glow16)) + tube), 0), 1);
    }
  return img;
}

/** Flat palette colours with a dark outline one 16×16 block thick (the mask is sampled on the blocks). */
export function pixelArt(mask: Uint8Array, col: Float32Array, bgc: Float32Array): Float32Array {
  const edge = outline(mask, 4);
  const img = new Float32Array(GRID * GRID * 3);
  for (let i = 0; i < mask.length; i++)
    for (let ch = 0; ch < 3; ch++) img[i * 3 + ch] = edge[i] ? f(col[ch]! * K.pixel045) : mask[i] ? col[ch]! : bgc[ch]!;
  return img;
}
