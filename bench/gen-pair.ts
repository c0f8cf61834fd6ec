// Generates the benchmark pairs into bench/.out/ (gitignored): the CLIP-sized ViT-B/32 pair in fp32
// and weights-only fp16, and the small ViT pair; then checks with onnxruntime-node that each model
// loads and runs. `tsx bench/gen-pair.ts [--force]`; bench/run.ts calls ensurePairs() itself.
import { existsSync, mkdirSync, writeFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { CLIP_B32, SMALL, buildModel, paramCount, perturb, randomImages, randomWeights, type VitConfig } from './vit';

export const OUT = join(dirname(fileURLToPath(import.meta.url)), '.out');

export interface PairFiles {
  config: VitConfig;
  params: number;
  zs: string;
  ft: string;
  zs16: string;
  ft16: string;
}

export function pairFiles(c: VitConfig): PairFiles {
  const f = (s: string) => join(OUT, `${c.name}-${s}.onnx`);
  return { config: c, params: paramCount(c), zs: f('zs'), ft: f('ft'), zs16: f('zs-fp16'), ft16: f('ft-fp16') };
}

async function check(path: string, c: VitConfig): Promise<void> {
  const s = await ort.InferenceSession.create(path);
  const r = await s.run({ image: new ort.Tensor('float32', randomImages(c, 2, 9), [2, 3, c.size, c.size]) });
  const e = r.embedding!.data as Float32Array;
  const l = r.logits!.data as Float32Array;
  let nn = 0;
  for (let i = 0; i < c.embed; i++) nn += e[i]! * e[i]!;
  if (!l.every(Number.isFinite) || Math.abs(nn - 1) > 1e-3) throw new Error(`${path}: bad outputs (|emb|²=${nn})`);
  await s.release();
}

export async function ensurePairs(force = false, log = console.log): Promise<PairFiles[]> {
  mkdirSync(OUT, { recursive: true });
  const out: PairFiles[] = [];
  for (const c of [SMALL, CLIP_B32]) {
    const f = pairFiles(c);
    out.push(f);
    if (!force && [f.zs, f.ft, f.zs16, f.ft16].every((p) => existsSync(p))) continue;
    const t = performance.now();
    const w0 = randomWeights(c, 1);
    const w1 = perturb(w0, 2);
    writeFileSync(f.zs, buildModel(c, w0));
    writeFileSync(f.ft, buildModel(c, w1));
    writeFileSync(f.zs16, buildModel(c, w0, { fp16: true }));
    writeFileSync(f.ft16, buildModel(c, w1, { fp16: true }));
    for (const p of [f.zs, f.ft, f.zs16, f.ft16]) await check(p, c);
    log(
      `generated ${c.name}: ${f.params.toLocaleString('en')} parameters, ${(statSync(f.zs).size / 2 ** 20).toFixed(1)} MiB fp32 / ${(statSync(f.zs16).size / 2 ** 20).toFixed(1)} MiB fp16 per checkpoint, checked with onnxruntime-node (${((performance.now() - t) / 1000).toFixed(1)} s)`,
    );
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await ensurePairs(process.argv.includes('--force'));
}
