// The class shapes of tools/world.py `_shape_mask` in object coordinates (u right, v up, unit
// radius), in float32 as numpy computes them: each Python literal rounded to float32 (NEP 50),
// each operation rounded. numpy's float32 atan2 and power are its own SIMD routines (up to a few
// ulps from the correctly rounded value); these use the correctly rounded one, so a point within a
// few ulps of an edge can land on the other side (the fixture test measures how often).
const f = Math.fround;
const C = {
  r09: f(0.9),
  r07: f(0.7),
  tri05: f(-0.5),
  tri095: f(0.95),
  tri1732: f(1.732),
  twoPi: f(2 * Math.PI),
  star038: f(0.38),
  star057: f(0.57),
  c027: f(0.27),
  c088: f(0.88),
  ring052: f(0.52),
  h12: f(1.2),
  h015: f(0.15),
  a02: f(0.2),
  am09: f(-0.9),
  a015: f(0.15),
  a085: f(0.85),
  m088: f(0.88),
  m038: f(0.38),
  m018: f(0.18),
  m072sq: f(0.72 ** 2),
  d058: f(0.58),
  d095: f(0.95),
};

/** Python's float modulo (numpy npy_divmodf): the result takes the divisor's sign. */
function mod32(a: number, b: number): number {
  const m = a % b;
  return m !== 0 && m < 0 !== b < 0 ? f(m + b) : m;
}

function star(u: number, v: number, r: number): boolean {
  const th = f(Math.atan2(u, v));
  const turn = mod32(f(f(th * 5) / C.twoPi), 1);
  const tri = Math.abs(f(f(turn * 2) - 1));
  return r < f(C.star038 + f(C.star057 * f(Math.pow(tri, 1.5))));
}

function heart(u: number, v: number): boolean {
  const x = f(u * C.h12);
  const y = f(f(v * C.h12) + C.h015);
  const xx = f(x * x);
  const a = f(f(xx + f(y * y)) - 1);
  return f(f(Math.pow(a, 3)) - f(xx * f(Math.pow(y, 3)))) < 0;
}

function arrow(u: number, v: number): boolean {
  const shaft = Math.abs(v) < C.a02 && u > C.am09 && u < C.a015;
  const head = u >= 0 && u < C.r09 && Math.abs(v) < f(f(C.r09 - u) * C.a085);
  return shaft || head;
}

const BASE: ((u: number, v: number, r: number) => boolean)[] = [
  (_u, _v, r) => r < C.r09,
  (u, v) => Math.max(Math.abs(u), Math.abs(v)) < C.r07,
  (u, v) => v > C.tri05 && v < f(C.tri095 - f(C.tri1732 * Math.abs(u))),
  star,
  (u, v) => (Math.abs(u) < C.c027 && Math.abs(v) < C.c088) || (Math.abs(v) < C.c027 && Math.abs(u) < C.c088),
  (_u, _v, r) => r < C.r09 && r > C.ring052,
  heart,
  arrow,
  (u, v, r) => r < C.m088 && f(f(f(u - C.m038) ** 2) + f(f(v - C.m018) ** 2)) > C.m072sq,
  (u, v) => f(f(Math.abs(u) / C.d058) + f(Math.abs(v) / C.d095)) < 1,
];

/**
 * world.py `_polygon`: a regular polygon, a vertex up. Its right side is `radius * np.cos(np.pi / sides)`,
 * a float64 numpy scalar, so numpy compares in float64 (NEP 50: it is not a weak Python float).
 */
function polygon(sides: number, radius: number): (u: number, v: number, r: number) => boolean {
  const sector = (2 * Math.PI) / sides;
  const sector32 = f(sector);
  const half32 = f(sector / 2);
  const edge = radius * Math.cos(Math.PI / sides);
  return (u, v, r) => f(r * f(Math.cos(f(mod32(f(Math.atan2(u, v)), sector32) - half32)))) < edge;
}

const E = {
  o092: f(0.92),
  o055: f(0.55),
  sm025: f(-0.25),
  s025: f(0.25),
  s092sq: f(0.92 ** 2),
  t04: f(0.4),
  k03: f(0.3),
  k06: f(0.6),
  k12: f(1.2),
  c075: f(0.75),
  c085: f(0.85),
  c015: f(0.15),
  c09: f(0.9),
  cm07: f(-0.7),
  d06sq: f(0.6 ** 2),
  d115: f(1.15),
  r045: f(0.45),
};

function kite(u: number, v: number): boolean {
  const side = f(Math.abs(u) / E.k06);
  return v > E.k03 ? f(side + f(f(v - E.k03) / E.k06)) < 1 : f(side + f(f(E.k03 - v) / E.k12)) < 1;
}

function chevron(u: number, v: number): boolean {
  const slope = f(E.c085 * Math.abs(u));
  const outer = v < f(E.c075 - slope) && Math.abs(u) < E.c09;
  return outer && !(v < f(E.c015 - slope)) && v > E.cm07;
}

function drop(u: number, v: number): boolean {
  const ball = f(f(u * u) + f(f(v + E.s025) ** 2)) < E.d06sq;
  return ball || (v >= E.sm025 && v < E.c09 && Math.abs(u) < f(f(E.k06 * f(E.c09 - v)) / E.d115));
}

/** Round 4's ten extra classes (WISEFT_WORLD_CLASSES=20), world.py `_extra_mask`, in CLASSES order. */
const EXTRA: ((u: number, v: number, r: number) => boolean)[] = [
  polygon(5, 0.92),
  polygon(6, 0.9),
  (u, v) => f(f(f(u / E.o092) ** 2) + f(f(v / E.o055) ** 2)) < 1,
  (u, v, r) => r < E.o092 && v > E.sm025 && f(f(u * u) + f(f(v + E.s025) ** 2)) < E.s092sq,
  (u, v) => Math.abs(v) < E.o055 && Math.abs(u) < f(C.c088 - f(E.t04 * f(v + E.o055))),
  kite,
  chevron,
  drop,
  polygon(8, 0.9),
  (u, v) => Math.abs(u) < C.r09 && Math.abs(v) < E.r045,
];

const SHAPES = [...BASE, ...EXTRA];

/** Whether object point (u, v), float32, is inside class `k`'s shape; r = sqrt(u² + v²) in float32. */
export function insideShape(k: number, u: number, v: number, r: number): boolean {
  const shape = SHAPES[k];
  if (!shape) throw new RangeError(`class ${k}: the world has classes 0–19`);
  return shape(u, v, r);
}
