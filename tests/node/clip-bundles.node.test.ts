// Real CLIP architectures (open_clip and Hugging Face ViT-B/32, random init) exported by
// tools/clip_export: the app's engine in Node reproduces the exporter's PyTorch logits on the same
// images. The bundles are written by the exporter's pytest run when WISEFT_CLIP_ARTIFACTS is set
// (.ci/run does it before `npm test`); in CI their absence is a failure.
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { BlendEngine } from '../../src/core/runtime/engine';
import { ortNode } from '../../src/core/runtime/ort-node';
import { loadBundle } from '../../src/core/bundle/source';
import { dirSource } from '../../src/node/dirSource';
import { normalizeHWC } from '../../src/core/eval/sprites';
import { TextTower } from '../../src/core/text/head';

const DIR = process.env.WISEFT_CLIP_ARTIFACTS ?? 'tests/.artifacts/clip';
const bundles = existsSync(DIR) ? readdirSync(DIR).filter((d) => existsSync(join(DIR, d, 'fixture.json'))) : [];

interface Fixture {
  tolerance: number;
  size: number;
  images: string[];
  alphas: number[];
  logits: Record<string, number[][]>;
  text?: { prompts: string[]; ids: number[][]; embedding: number[][] };
}

describe('exported CLIP pairs', () => {
  it('are present (the exporter ran before these tests)', () => {
    if (process.env.CI) expect(bundles.length, `no exported bundles in ${DIR}`).toBeGreaterThanOrEqual(2);
    else if (bundles.length === 0)
      console.warn(`no exported CLIP bundles in ${DIR}: run .ci/run (or the exporter's pytest with WISEFT_CLIP_ARTIFACTS=${DIR})`);
  });

  it.each(bundles)(
    '%s: the engine reproduces the exporter logits at every fixture α (max |Δ| ≤ 1e-3), and the text tower its ids and embeddings',
    async (name) => {
      const dir = join(DIR, name);
      const fx = JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8')) as Fixture;
      const bundle = await loadBundle(dirSource(dir));
      const m = bundle.manifest;
      const engine = await BlendEngine.create(bundle.zeroShot, bundle.fineTuned, { ort: ortNode, backend: 'cpu' });
      const size = m.preprocess.size;
      const rgb = new Uint8Array(fx.images.length * size * size * 3);
      fx.images.forEach((b64, i) => {
        const png = decode(Buffer.from(b64, 'base64'));
        for (let p = 0; p < size * size; p++)
          for (let c = 0; c < 3; c++) rgb[(i * size * size + p) * 3 + c] = (png.data as Uint8Array)[p * png.channels + c]!;
      });
      const input = normalizeHWC(rgb, fx.images.length, size, m.preprocess);
      let worst = 0;
      for (const alpha of fx.alphas) {
        const out = await engine.run(alpha, { data: input, dims: [fx.images.length, 3, size, size] });
        const want = fx.logits[String(alpha)]!.flat();
        const got = out[m.io.logits]!.data;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      }
      console.log(`${name}: max |Δ logits| = ${worst.toExponential(2)} over α ∈ {${fx.alphas.join(', ')}}`);
      expect(worst).toBeLessThanOrEqual(Math.min(1e-3, fx.tolerance));
      await engine.dispose();

      if (fx.text && m.text && bundle.text) {
        const tower = await TextTower.create(ortNode, bundle.text, bundle.tokenizer, m.text, 'cpu');
        const ids = tower.tokenize(fx.text.prompts);
        expect(Array.from(ids, Number)).toEqual(fx.text.ids.flat());
        const emb = await tower.encode(fx.text.prompts);
        const want = fx.text.embedding.flat();
        const scale = Math.max(1, ...want.map(Math.abs));
        let d = 0;
        for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(emb.data[i]! - want[i]!));
        expect(d).toBeLessThanOrEqual(1e-3 * scale);
        await tower.release();
      }
    },
    300_000,
  );
});
