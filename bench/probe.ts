// The linear probe in the page on the wasm EP (`npm run bench -- --only-probe [--probe-n=N]`): the
// feature pass through the zero-shot tower and the training, on N images, as the app's Worker runs
// them (Explorer.linearProbe). The pixels are the bundled sets' images cycled to N: only the time
// is measured here, which does not depend on what the images show.
import { ortWeb } from '../src/core/runtime/ort-web';
import { loadBundle, urlSource } from '../src/core/bundle/source';
import { Explorer } from '../src/core/explorer';
import { decodeSprite } from '../src/core/eval/sprites';
import { readHead } from '../src/core/train/head';
import { DEFAULT_PROBE } from '../src/core/train/probe';

export async function probe(o: { manifest: string; n: number; epochs?: number }) {
  const bundle = await loadBundle(urlSource(o.manifest));
  const m = bundle.manifest;
  const ex = new Explorer({ ort: ortWeb, backend: 'wasm' });
  await ex.loadPair(bundle);
  const sets = (m.eval?.sets ?? []).map((s) => decodeSprite(s, bundle.sprites.get(s.id)!));
  const per = m.preprocess.size ** 2 * 3;
  const pixels = new Uint8Array(o.n * per);
  const labels = new Int32Array(o.n);
  const all = sets.flatMap((s) => Array.from({ length: s.count }, (_, i) => [s, i] as const));
  for (let i = 0; i < o.n; i++) {
    const [s, k] = all[i % all.length]!;
    pixels.set(s.pixels!.subarray(k * per, (k + 1) * per), i * per);
    labels[i] = s.labels[k]!;
  }
  const settings = { ...DEFAULT_PROBE, epochs: o.epochs ?? DEFAULT_PROBE.epochs };
  const t0 = performance.now();
  let featuresMs = 0;
  const r = await ex.linearProbe({ pixels, labels, count: o.n }, readHead(bundle.zeroShot), settings, (p) => {
    if (p.phase === 'features' && p.done === p.total) featuresMs = performance.now() - t0;
  });
  const totalMs = performance.now() - t0;
  await ex.dispose();
  return { n: o.n, epochs: settings.epochs, trainCount: r.trainCount, featuresMs, trainMs: totalMs - featuresMs, totalMs };
}
