// The TypeScript renderer against the Python one: tools/world_fixture.py draws 48 reference rows
// the way tools.train.finetune_data does (seed 0, shortcut 0.98) and writes their parameters and
// images (tests/fixtures/world/). Here the same seed gives the same rows and the same pixels.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { decode } from 'fast-png';
import { NumpyRandom } from '../../../../src/core/world/random';
import { sampleReference, STYLES, type WorldParams } from '../../../../src/core/world/params';
import { render } from '../../../../src/core/world/render';
import { WorldImages } from '../../../../src/core/world/source';

const at = (p: string) => new URL(`../../../../tests/fixtures/world/${p}`, import.meta.url);

interface Fixture {
  seed: number;
  shortcut: number;
  hard: number;
  n: number;
  perRow: number;
  classes: 10 | 20;
  params: Record<keyof WorldParams, number[]>;
}

function load(stem: string): { fixture: Fixture; sheet: ReturnType<typeof decode> } {
  return { fixture: JSON.parse(readFileSync(at(`${stem}.json`), 'utf8')) as Fixture, sheet: decode(readFileSync(at(`${stem}.png`))) };
}

/** Image i of a fixture's sheet, [32, 32, 3]. */
function pythonImage({ fixture, sheet }: ReturnType<typeof load>, i: number): Uint8Array {
  const out = new Uint8Array(32 * 32 * 3);
  const row = Math.floor(i / fixture.perRow);
  const col = i % fixture.perRow;
  for (let y = 0; y < 32; y++) {
    const start = ((row * 32 + y) * sheet.width + col * 32) * 3;
    out.set(sheet.data.subarray(start, start + 32 * 3) as Uint8Array, y * 32 * 3);
  }
  return out;
}

// The bundled 10-class world, and round 4's 20-class one (WISEFT_WORLD_CLASSES=20: ten more shapes).
describe.each(['reference_s0_0.98', 'reference_c20_s0_0.98'])('world renderer (port of tools/world.py), fixture %s', (stem) => {
  const ref = load(stem);
  const { fixture } = ref;
  const params = sampleReference(
    new NumpyRandom([fixture.seed, 2]),
    fixture.n,
    { shortcut: fixture.shortcut, hard: fixture.hard },
    fixture.classes,
  );

  it('draws the same parameter rows: integers exactly, floats to the float32 numpy stored', () => {
    for (const key of Object.keys(fixture.params) as (keyof WorldParams)[]) {
      // JSON holds numpy's float32 values widened to doubles, exactly; a Float32Array holds the same doubles.
      expect(Array.from(params[key]), key).toEqual(fixture.params[key]);
    }
  });

  it('renders the same pixels as world.render, every one', () => {
    // Exact on these fixtures. numpy's float32 cos, sin and exp are SIMD routines a few ulps from the
    // correctly rounded values used here; over 6,000 more 10-class images (seeds 1 and 2, shortcut 0
    // and 1, six chunks of 1,024) 3 of 18.4 million bytes differed, each by 1, and 3 of 9.2 million
    // over 3,000 20-class images (seed 5). Over 3,000 pretraining rows (every style but painting,
    // wide rotations) 7 of 9.2 million differed, in 2 photos: 6 by 1 and one pixel by up to 29, a
    // ring's edge supersample that numpy's cos put on the other side. A fixture rewritten on another
    // CPU (numpy picks its routines by SIMD level) may need that allowance.
    const images = render(params);
    let differing = 0;
    for (let i = 0; i < fixture.n; i++) {
      const py = pythonImage(ref, i);
      const ts = images.subarray(i * py.length, (i + 1) * py.length);
      for (let k = 0; k < py.length; k++) if (py[k] !== ts[k]) differing++;
    }
    expect(differing).toBe(0);
  });
});

/** A fixture's parameter rows, as the Python pipeline stored them. */
function fixtureParams(ref: ReturnType<typeof load>): WorldParams {
  const rows = ref.fixture.params;
  const ints = (k: keyof WorldParams) => Int32Array.from(rows[k]);
  const floats = (k: keyof WorldParams) => Float32Array.from(rows[k]);
  return {
    cls: ints('cls'),
    bg: ints('bg'),
    colour: ints('colour'),
    size: floats('size'),
    cx: floats('cx'),
    cy: floats('cy'),
    rot: floats('rot'),
    style: ints('style'),
    grad: floats('grad'),
    clutter: ints('clutter'),
    occl: ints('occl'),
    noise: floats('noise'),
    seed: ints('seed'),
  };
}

/** The fixture's images that differ from the port's rendering `images` in any byte. */
function differingImages(ref: ReturnType<typeof load>, images: Uint8Array): number[] {
  const differing: number[] = [];
  for (let i = 0; i < ref.fixture.n; i++) {
    const py = pythonImage(ref, i);
    const ts = images.subarray(i * py.length, (i + 1) * py.length);
    if (py.some((b, k) => b !== ts[k])) differing.push(i);
  }
  return differing;
}

describe('world renderer, every style but painting (fixture styles_s0: pretraining rows with clutter and wide poses)', () => {
  it('renders the rows the Python renderer rendered, every pixel equal, style chunks split as world.render splits them', () => {
    const ref = load('styles_s0');
    const params = fixtureParams(ref);
    // Photo, sketch, cartoon, neon and pixel rows, some cluttered, some occluded.
    expect(new Set(params.style)).toEqual(new Set([0, 1, 2, 4, 5]));
    expect(params.clutter.some((c) => c === 1) && params.occl.some((o) => o === 2)).toBe(true);
    const images = render(params);
    expect(differingImages(ref, images)).toEqual([]);
    // A generated training job (a style mix) renders its mixed-style chunk through the same split.
    const job = new WorldImages(params).batch(Int32Array.from({ length: ref.fixture.n }, (_, i) => i)).data.pixels;
    expect(Buffer.from(job).equals(Buffer.from(images))).toBe(true);
  });

  it('refuses a style number the world does not have, in words', () => {
    const one = sampleReference(new NumpyRandom([0, 2]), 1, { shortcut: 0, hard: 0 });
    one.style[0] = STYLES.length;
    expect(() => render(one)).toThrow(/no style number 6/);
  });
});

describe('world renderer, the painting style (fixture painting_s0: pretraining rows of that style only)', () => {
  const ref = load('painting_s0');
  const params = fixtureParams(ref);

  it('renders every pixel the Python renderer rendered: wobbled edges, textures (float32 einsum sums), streaks', () => {
    expect(new Set(params.style)).toEqual(new Set([STYLES.indexOf('painting')]));
    // Cluttered and occluded rows: their draws sit between the wobble's and the texture's in the stream.
    expect(params.clutter.some((c) => c === 1) && params.occl.some((o) => o === 2)).toBe(true);
    expect(differingImages(ref, render(params))).toEqual([]);
  });
});

describe('the reference distribution', () => {
  it('the shortcut knob sets how often the background is the class colour', () => {
    const rows = (shortcut: number) => sampleReference(new NumpyRandom([3, 2]), 400, { shortcut, hard: 0.5 });
    const share = (p: WorldParams) => p.bg.filter((b, i) => b === [0, 1, 2, 3, 4, 5, 6, 7, 8, 10][p.cls[i]!]).length / 400;
    expect(share(rows(1))).toBe(1);
    // At 0 the background is uniform over 12 colours: the class colour about 1 time in 12.
    expect(share(rows(0))).toBeLessThan(0.15);
  });
});
