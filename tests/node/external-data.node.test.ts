import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { BlendEngine, type EngineOptions } from '../../src/core/runtime/engine';
import { ortNode } from '../../src/core/runtime/ort-node';
import { OnnxError, parseModel, tensorBytes } from '../../src/core/onnx/model';
import { resolveExternalData } from '../../src/core/onnx/external';

// A tiny pair saved by onnx.save_model(..., save_as_external_data=True): tests/fixtures/external-data/make_fixture.py.
const dir = 'tests/fixtures/external-data/';
const file = (name: string) => new Uint8Array(readFileSync(dir + name));
const zs = file('zs.onnx');
const ft = file('ft.onnx');
const data = { zs: new Map([['zs.onnx.data', file('zs.onnx.data')]]), ft: new Map([['ft.onnx.data', file('ft.onnx.data')]]) };
const base: EngineOptions = { ort: ortNode, backend: 'cpu' };
const images = Float32Array.from({ length: 3 * 16 }, (_, i) => Math.sin(i));

async function logits(engine: BlendEngine, alpha: number): Promise<Float32Array> {
  return (await engine.run(alpha, { data: images, dims: [3, 16] })).logits!.data;
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('models saved with external data', () => {
  it("every external tensor reads the bytes onnx wrote inline, from its file's offset and length", () => {
    const m = parseModel(zs, 'zs.onnx');
    const inline = parseModel(file('zs-inline.onnx'));
    resolveExternalData(m, data.zs, 'zs.onnx');
    m.graph.initializer.forEach((t, i) => {
      expect(t.name).toBe(inline.graph.initializer[i]!.name);
      expect(tensorBytes(t)).toEqual(tensorBytes(inline.graph.initializer[i]!));
    });
  });

  it('an engine on the pair with its data files blends exactly as one on the inline pair, from bytes and streamed', async () => {
    const inline = await BlendEngine.create(file('zs-inline.onnx'), file('ft-inline.onnx'), base);
    const opts = { ...base, externalData: [data.zs, data.ft] };
    const fromBytes = await BlendEngine.create(zs, ft, opts);
    const streamed = await BlendEngine.createFromStreams([[zs.slice(0, 100), zs.slice(100)], [ft]], opts);
    expect(fromBytes.info.differing.map((d) => d.name)).toEqual(['w1', 'b1', 'w2']);
    expect(fromBytes.info.shared.map((d) => d.name)).toEqual(['scale']);
    for (const a of [0, 0.4, 1]) {
      const want = await logits(inline, a);
      expect(same(await logits(fromBytes, a), want), `bytes, α=${a}`).toBe(true);
      expect(same(await logits(streamed, a), want), `streamed, α=${a}`).toBe(true);
    }
    // The endpoints differ, so the equalities above are not vacuous.
    const [l0, l1] = [await logits(inline, 0), await logits(inline, 1)];
    expect(Math.max(...l0.map((v, i) => Math.abs(v - l1[i]!)))).toBeGreaterThan(0.1);
    await Promise.all([inline.dispose(), fromBytes.dispose(), streamed.dispose()]);
  });

  it('a data file that was not given, a truncated one and a range that does not fit the tensor are refused by name', async () => {
    await expect(BlendEngine.create(zs, ft, { ...base, externalData: [data.zs] })).rejects.toThrow(
      "fine-tuned model: tensor 'w1' keeps its data in 'ft.onnx.data', which was not given (a bundle lists it under the model's externalData)",
    );
    const cut = new Map([['ft.onnx.data', file('ft.onnx.data').slice(0, 2500)]]);
    await expect(BlendEngine.create(zs, ft, { ...base, externalData: [data.zs, cut] })).rejects.toThrow(
      "fine-tuned model: tensor 'w2' reads bytes 2176–2816 of 'ft.onnx.data', which has 2500: is the data file truncated or another model's?",
    );
    const m = parseModel(zs, 'zs.onnx');
    m.graph.initializer[0]!.external_data.find((e) => e.key === 'length')!.value = '2044';
    expect(() => resolveExternalData(m, data.zs, 'zs.onnx')).toThrow(
      new OnnxError("zs.onnx: tensor 'w1' is float32[16, 32] (2048 bytes), but its external data is 2044 bytes long"),
    );
  });
});
