// The wise-ft results format: JSON lines, one object per α, with `alpha` and "<Dataset>:top1"
// accuracies as 0-1 fractions (what wise-ft's own evaluation writes). We add "<Dataset>:n", the
// number of images, so intervals can be drawn and shards merged exactly; and, when asked for,
// "<Dataset>:ece" and "<Dataset>:nll" (calibration.ts), which readers of the format skip.
import { own } from './ids';
import type { CalibrationStats } from './calibrationReport';

export interface ResultLine {
  alpha: number;
  [key: string]: number;
}

export function toResultLine(
  alpha: number,
  point: Record<string, { correct: number; n: number }>,
  names: Record<string, string> = {},
  calibration?: Record<string, CalibrationStats>,
): ResultLine {
  const line: ResultLine = { alpha };
  for (const [id, a] of Object.entries(point)) {
    // `names` is keyed by set id: an id like "constructor" must not find Object's constructor.
    const name = own(names, id) ?? id;
    line[`${name}:top1`] = a.correct / a.n;
    line[`${name}:n`] = a.n;
    const c = calibration && own(calibration, id);
    if (c) Object.assign(line, calibrationEntries(name, c));
  }
  return line;
}

/**
 * "<name>:ece" and "<name>:nll" of one set. Both are over the images its "<name>:n" counts; an
 * infinite NLL (a label outside the set's classes) is written as null, as JSON has no Infinity.
 */
export function calibrationEntries(name: string, c: CalibrationStats): Record<string, number> {
  return { [`${name}:ece`]: c.ece, [`${name}:nll`]: c.nll };
}

export function formatResults(lines: readonly ResultLine[]): string {
  return (
    [...lines]
      .sort((a, b) => a.alpha - b.alpha)
      .map((l) => JSON.stringify(l))
      .join('\n') + '\n'
  );
}

export class ResultsError extends Error {
  override name = 'ResultsError';
}

/**
 * The most lines a results file may have. A wise-ft sweep has tens to hundreds of α values; 62,000
 * lines once blanked the page (a chart of 62,000 points, a call stack overflowed by spreading them).
 */
export const MAX_RESULT_LINES = 10_000;

/**
 * Parses a results file; each line needs a numeric alpha and at least one "<Dataset>:top1". Every
 * accuracy must be a finite fraction in [0, 1] and every count a positive integer: a value that is
 * not (1e999 parses as Infinity, "0.9" is a string) is reported with its line, never dropped.
 */
export function parseResults(text: string): ResultLine[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines.length === 0) throw new ResultsError('the results file is empty');
  if (lines.length > MAX_RESULT_LINES) {
    throw new ResultsError(
      `the results file has ${lines.length.toLocaleString('en')} lines, more than the ${MAX_RESULT_LINES.toLocaleString('en')} this page reads (one line per α; a sweep rarely needs more than a few hundred)`,
    );
  }
  return lines.map((l, i) => {
    let obj: unknown;
    try {
      obj = JSON.parse(l);
    } catch {
      throw new ResultsError(`line ${i + 1} is not JSON`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new ResultsError(`line ${i + 1} is not a JSON object`);
    const o = obj as Record<string, unknown>;
    if (typeof o.alpha !== 'number' || !(o.alpha >= 0 && o.alpha <= 1))
      throw new ResultsError(`line ${i + 1} has no "alpha" between 0 and 1`);
    const out: ResultLine = { alpha: o.alpha };
    const shown = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : String(v));
    for (const [k, v] of Object.entries(o)) {
      const top1 = k.endsWith(':top1');
      if (!top1 && !k.endsWith(':n')) continue;
      const key = k.length > 80 ? `${k.slice(0, 80)}…` : k;
      if (typeof v !== 'number') throw new ResultsError(`line ${i + 1}: "${key}" is ${shown(v)}, not a number`);
      if (!Number.isFinite(v)) throw new ResultsError(`line ${i + 1}: "${key}" is not a finite number (a value like 1e999 reads as ${v})`);
      if (top1 && !(v >= 0 && v <= 1)) throw new ResultsError(`line ${i + 1}: ${key} = ${v} is not a fraction between 0 and 1`);
      if (!top1 && !(Number.isInteger(v) && v > 0))
        throw new ResultsError(`line ${i + 1}: ${key} = ${v} is not a positive whole number of images`);
      out[k] = v;
    }
    if (!Object.keys(out).some((k) => k.endsWith(':top1'))) throw new ResultsError(`line ${i + 1} has no "<Dataset>:top1" accuracy`);
    return out;
  });
}

/** Merges shard files; the same α in two shards must agree. */
export function mergeResults(shards: readonly ResultLine[][]): ResultLine[] {
  const byAlpha = new Map<number, ResultLine>();
  for (const lines of shards) {
    for (const l of lines) {
      const prev = byAlpha.get(l.alpha);
      if (prev && JSON.stringify(prev) !== JSON.stringify(l)) throw new ResultsError(`two shards disagree at alpha=${l.alpha}`);
      byAlpha.set(l.alpha, l);
    }
  }
  return [...byAlpha.values()].sort((a, b) => a.alpha - b.alpha);
}

/** "0:1:0.05" → [0, 0.05, …, 1]; "0,0.5,1" → [0, 0.5, 1]. Rounded to 1e-6 so keys are stable. */
export function parseAlphas(spec: string): number[] {
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  if (spec.includes(':')) {
    const [a, b, step] = spec.split(':').map(Number);
    if (![a, b, step].every((x) => Number.isFinite(x)) || step! <= 0 || a! > b!)
      throw new ResultsError(`bad α range '${spec}' (use start:stop:step)`);
    const n = Math.round((b! - a!) / step!);
    return Array.from({ length: n + 1 }, (_, i) => round(a! + i * step!)).filter((x) => x <= b! + 1e-9);
  }
  const list = spec.split(',').map((x) => round(Number(x)));
  if (list.some((x) => !(x >= 0 && x <= 1))) throw new ResultsError(`bad α list '${spec}'`);
  return list;
}

/** Shard i of n takes every n-th α, so each shard's work is about equal. */
export function shardAlphas(alphas: readonly number[], shard: string | undefined): number[] {
  if (!shard) return [...alphas];
  const m = /^(\d+)\/(\d+)$/.exec(shard);
  const i = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (!m || n < 1 || i < 0 || i >= n) throw new ResultsError(`bad shard '${shard}' (use i/n with 0 ≤ i < n)`);
  return alphas.filter((_, k) => k % n === i);
}
