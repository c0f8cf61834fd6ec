// The exact GELU PyTorch uses by default (nn.GELU(approximate='none')): x·Φ(x) = ½x(1 + erf(x/√2)),
// exported to ONNX as Div, Erf, Add, Mul. JavaScript has no Math.erf, and the gradient checks run in
// float64, so erf is computed here to ~1e-15 (not a float32 approximation whose derivative would not
// match the exact Gaussian density used in the backward pass).

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf(a) for 0 ≤ a < 3: 2/√π·e^(−a²)·Σ 2ⁿa^(2n+1)/(1·3·…·(2n+1)), every term positive (no cancellation). */
function erfSeries(a: number): number {
  const a2 = a * a;
  let term = a;
  let sum = a;
  for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
    term *= (2 * a2) / (2 * n + 1);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-a2) * sum;
}

/** erfc(a) for a ≥ 3 by its continued fraction (modified Lentz), which converges fast out there. */
function erfcFraction(a: number): number {
  // erfc(a) = e^(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + …)))))
  const tiny = 1e-300;
  let f = a;
  let c = a;
  let d = 0;
  for (let k = 1; k < 200; k++) {
    const num = k / 2;
    d = a + num * d;
    d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
    c = a + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-a * a) / (Math.sqrt(Math.PI) * f);
}

export function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) r = erfSeries(a);
  else if (a < 6) r = 1 - erfcFraction(a);
  else r = 1; // erfc(6) ≈ 2e-17: 1 in double precision
  return x < 0 ? -r : r;
}

/**
 * erf to 1.5e-7 absolute (Abramowitz & Stegun 7.1.26): one exp and one division, for the float32
 * training path, where it is below float32's own rounding of GELU's output; the float64 checks
 * use `erf`.
 */
export function erfFast(x: number): number {
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const r = 1 - poly * Math.exp(-a * a);
  return x < 0 ? -r : r;
}
