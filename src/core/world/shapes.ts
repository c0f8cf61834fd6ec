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

/** Whether object point (u, v), float32, is inside class `k`'s shape; r = sqrt(u² + v²) in float32. */
export function insideShape(k: number, u: number, v: number, r: number): boolean {
  const shape = BASE[k];
  if (!shape) throw new RangeError(`class ${k}: the ported renderer draws the 10-class world's shapes (0–9)`);
  return shape(u, v, r);
}
