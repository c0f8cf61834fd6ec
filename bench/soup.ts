// `npx tsx bench/soup.ts [--reps N] [--json]`: the CPU blend of the bundled pair with K = 2 and
// K = 3 members (zero-shot, e2e-seed0, e2e-seed1), in Node. A separate script, not a row of
// `npm run bench`, because that run takes many minutes here; its report can take these rows later.
//
// Rows: the pair kernel CpuBlender ran before K members (arena.mix, α), the K-member kernel with
// { alpha } (K = 2), uniform weights over K = 3, K = 3 with per-tensor weights (every other tensor
// its own row), and the JS loop (mixMembersInto) for K = 2 and 3. GB/s counts the members read and
// θ written: 4·(K + 1) bytes per weight.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseModel } from '../src/core/onnx/model';
import { analyzePair } from '../src/core/onnx/pair';
import { extractWeightMembers, type WeightMembers } from '../src/core/blend/weights';
import { CpuBlender, mixMembersInto } from '../src/core/blend/cpu';
import { wasmResident } from '../src/core/blend/arena';
import type { BlendCoefficients } from '../src/core/blend/blender';
import { stat, type Stat } from './stat';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE = join(ROOT, 'public/pairs/shapes');

if (process.argv.includes('--help')) {
  console.log(
    'npx tsx bench/soup.ts [--reps N] [--json]\n  CPU blend of the bundled pair, K = 2 vs K = 3 members (Node, wasm SIMD and JS loop).',
  );
  process.exit(0);
}
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const REPS = arg('--reps', 15);

export interface SoupRow {
  row: string;
  k: number;
  elements: number;
  /** Milliseconds per blend of every tensor (median of REPS samples, each the mean of its case's `inner` blends). */
  ms: Stat;
  gbs: number;
}

function membersOfBundle(k: number): WeightMembers[] {
  const models = ['zeroshot.onnx', 'members/e2e-seed0.onnx', 'members/e2e-seed1.onnx']
    .slice(0, k)
    .map((p) => parseModel(readFileSync(join(BUNDLE, p))));
  const changed = new Set(models.slice(1).flatMap((m) => analyzePair(models[0]!, m).differing.map((d) => d.name)));
  const names = models[0]!.graph.initializer.map((t) => t.name).filter((n) => changed.has(n));
  return extractWeightMembers(models, names);
}

interface Case {
  row: string;
  k: number;
  elements: number;
  blend: (i: number) => void;
  /** Blends per sample: one blend of the bundled pair is a fraction of a millisecond. */
  inner: number;
}

/** The cases' samples interleaved, so that load from other processes hits every row alike. */
function measure(cases: readonly Case[]): SoupRow[] {
  const samples = cases.map(() => [] as number[]);
  for (const c of cases) for (let i = 0; i < c.inner; i++) c.blend(i); // warm-up (JIT, first touch of θ's pages)
  for (let r = 0; r < REPS; r++) {
    cases.forEach((c, j) => {
      const t = performance.now();
      for (let i = 0; i < c.inner; i++) c.blend(i);
      samples[j]!.push((performance.now() - t) / c.inner);
    });
  }
  return cases.map((c, j) => {
    const ms = stat(samples[j]!);
    return { row: c.row, k: c.k, elements: c.elements, ms, gbs: (c.elements * 4 * (c.k + 1)) / ms.median / 1e6 };
  });
}

// α and weights vary per call so that no row blends the same thing twice in a row.
const alphaAt = (i: number) => 0.1 + (i % 9) * 0.1;
const INNER = 50;

function main(): void {
  const rows = measure([...pairCases(), ...soupCases()]);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  console.log(`bundled pair (${BUNDLE}), ${REPS} samples per row, Node ${process.version}`);
  console.log('| Row | K | Weights | Blend (median [q1, q3]) | GB/s |\n|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.row} | ${r.k} | ${r.elements.toLocaleString('en')} | ${(r.ms.median * 1000).toFixed(0)} µs [${(r.ms.q1 * 1000).toFixed(0)}, ${(r.ms.q3 * 1000).toFixed(0)}] | ${r.gbs.toFixed(1)} |`,
    );
}

/** K = 2: the pair kernel CpuBlender ran before, the K-member kernel and the JS loop. */
function pairCases(): Case[] {
  const pair = membersOfBundle(2);
  const elements = pair.reduce((s, t) => s + t.members[0]!.length, 0);
  // One arena for both kernels: the same memory, the same layout (K = 2 regions sit where the
  // pair kernel's always were).
  const arena = wasmResident(pair)!;
  const cpu = new CpuBlender(pair, arena);
  const outs = pair.map((t) => new Float32Array(t.members[0]!.length));
  return [
    {
      row: 'K=2, pair kernel (arena.mix, before)',
      k: 2,
      elements,
      inner: INNER,
      blend: (i) => {
        for (const s of arena.at.values()) arena.mix(s.out, s.a, s.b, s.n, alphaAt(i));
      },
    },
    { row: 'K=2, K-member kernel, { alpha }', k: 2, elements, inner: INNER, blend: (i) => cpu.blend({ alpha: alphaAt(i) }) },
    {
      row: 'K=2, JS loop (mixMembersInto)',
      k: 2,
      elements,
      inner: 10,
      blend: (i) => pair.forEach((t, j) => mixMembersInto(outs[j]!, t.members, [1 - alphaAt(i), alphaAt(i)])),
    },
  ];
}

/** K = 3: uniform weights, per-tensor weights on half the tensors, and the JS loop. */
function soupCases(): Case[] {
  const soup = membersOfBundle(3);
  const elements = soup.reduce((s, t) => s + t.members[0]!.length, 0);
  const cpu = new CpuBlender(soup);
  const w = (i: number) => [0.2, 0.4 - 0.01 * (i % 9), 0.4 + 0.01 * (i % 9)];
  const per = (i: number): BlendCoefficients => ({
    weights: w(i),
    perTensor: Object.fromEntries(
      soup.filter((_, j) => j % 2 === 0).map((t) => [t.name, [0.5, 0.25 + 0.01 * (i % 9), 0.25 - 0.01 * (i % 9)]]),
    ),
  });
  const outs = soup.map((t) => new Float32Array(t.members[0]!.length));
  return [
    { row: 'K=3, K-member kernel, uniform weights', k: 3, elements, inner: INNER, blend: (i) => cpu.blend({ weights: w(i) }) },
    { row: 'K=3, K-member kernel, per-tensor weights (half the tensors)', k: 3, elements, inner: INNER, blend: (i) => cpu.blend(per(i)) },
    {
      row: 'K=3, JS loop (mixMembersInto)',
      k: 3,
      elements,
      inner: 10,
      blend: (i) => soup.forEach((t, j) => mixMembersInto(outs[j]!, t.members, w(i))),
    },
  ];
}

main();
