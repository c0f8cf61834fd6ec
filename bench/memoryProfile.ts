// `npx tsx bench/memoryProfile.ts [--batches=1,2,8,27]` (issue 15, item 2: where the streamed engine's memory goes). Builds
// the CLIP-sized bench pair's engine with BlendEngine.createFromStreams on onnxruntime-web's wasm EP
// in Node, and prints, after each step, the size of every WebAssembly memory made (the blend arena:
// θ0 + θ1 + θ(α); onnxruntime's heap: the copy of the weight feeds it makes at each run, its own
// code and the activations) and the process's RSS, in MiB and in checkpoints. Node, not Chromium:
// the wasm memories are the same sizes; the RSS around them is Node's.
import { createReadStream, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-web';
import { BlendEngine, type OrtModule } from '../src/core/runtime/engine';
import { ensurePairs, type PairFiles } from './gen-pair';

const memories: { memory: WebAssembly.Memory; made: string }[] = [];
const Memory = WebAssembly.Memory;
// Every memory made from here on is recorded (the arena's and onnxruntime's, created before its module).
(WebAssembly as unknown as { Memory: typeof Memory }).Memory = new Proxy(Memory, {
  construct(target, args: [WebAssembly.MemoryDescriptor]) {
    const memory = Reflect.construct(target, args) as WebAssembly.Memory;
    memories.push({ memory, made: args[0].shared ? "onnxruntime's heap" : 'blend arena' });
    return memory;
  },
});

async function* chunks(path: string): AsyncGenerator<Uint8Array> {
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) yield new Uint8Array(c as Buffer);
}

async function main(): Promise<void> {
  const [, clip] = (await ensurePairs(false, () => undefined)) as [PairFiles, PairFiles];
  const checkpoint = statSync(clip.zs).size;
  const mib = (x: number) => `${(x / 2 ** 20).toFixed(0)} MiB (${(x / checkpoint).toFixed(2)}×)`;
  const show = (when: string) =>
    console.log(
      `${when}: RSS ${mib(process.memoryUsage().rss)}; ${memories.map((m) => `${m.made} ${mib(m.memory.buffer.byteLength)}`).join(', ')}`,
    );
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}; one checkpoint = ${mib(checkpoint)}`,
  );
  ort.env.wasm.numThreads = 1;
  show('start');
  const engine = await BlendEngine.createFromStreams([chunks(clip.zs), chunks(clip.ft)], {
    ort: ort as unknown as OrtModule,
    backend: 'wasm',
  });
  show('engine created (streamed)');
  const size = clip.config.size;
  // `--batches=1,2,8,27`: more batch sizes, in ascending order (onnxruntime's heap never shrinks, so
  // each line shows what the largest batch so far needs).
  const asked = process.argv.find((a) => a.startsWith('--batches='));
  const batches = asked ? asked.slice('--batches='.length).split(',').map(Number) : [1, 1, 27];
  for (const [i, n] of batches.entries()) {
    const alpha = i === 0 ? 0.3 : 0.7;
    await engine.run(alpha, { data: new Float32Array(n * 3 * size * size).fill(0.1), dims: [n, 3, size, size] });
    show(`run at α = ${alpha}, batch ${n}${n === 27 ? " (evaluator.ts batchSize at 224²: the app's evaluation batch)" : ''}`);
  }
  await engine.dispose();
}

await main();
