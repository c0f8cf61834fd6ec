import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/wiseft';
import { quiet } from '../support/quiet';
import { ModelProtoType } from '../../src/core/onnx/proto';
import { sha256Hex } from '../../src/core/util/hash';

const SHAPES = 'public/pairs/shapes';

/**
 * The model with every initializer's raw_data moved to `<location>` as onnx.save_model(...,
 * save_as_external_data=True) writes it (location, offset, length; tests/node/external-data checks
 * the reader against a file onnx itself wrote).
 */
function toExternal(bytes: Uint8Array, location: string): { model: Uint8Array; data: Uint8Array } {
  const proto = ModelProtoType.decode(bytes) as unknown as { graph: { initializer: Record<string, unknown>[] } };
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const t of proto.graph.initializer) {
    const raw = t.raw_data as Uint8Array;
    parts.push(raw);
    t.external_data = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.byteLength) },
    ];
    t.data_location = 1;
    delete t.raw_data;
    offset += raw.byteLength;
  }
  const data = new Uint8Array(offset);
  parts.reduce((at, p) => (data.set(p, at), at + p.byteLength), 0);
  return { model: ModelProtoType.encode(proto as never).finish(), data };
}

/** The bundled pair with both checkpoints' weights in external data files, listed in the manifest. */
async function externalBundle(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'wiseft-external-'));
  cpSync(SHAPES, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    models: { zeroShot: Record<string, unknown>; members: { model: Record<string, unknown> }[] };
  };
  mkdirSync(join(dir, 'members'), { recursive: true });
  for (const spec of [manifest.models.zeroShot, manifest.models.members[0]!.model]) {
    const path = spec.path as string;
    const name = path.split('/').pop()!;
    const { model, data } = toExternal(new Uint8Array(readFileSync(join(SHAPES, path))), `${name}.data`);
    writeFileSync(join(dir, path), model);
    writeFileSync(join(dir, `${path}.data`), data);
    Object.assign(spec, {
      bytes: model.byteLength,
      sha256: await sha256Hex(model),
      externalData: [{ path: `${path}.data`, bytes: data.byteLength, sha256: await sha256Hex(data) }],
    });
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

describe('wiseft CLI on a bundle whose checkpoints keep their weights in external data files', () => {
  it('exports the same θ(0.5) and evaluates to the same results as on the bundled pair', async () => {
    const dir = await externalBundle();
    const out = mkdtempSync(join(tmpdir(), 'wiseft-external-out-'));
    expect(readFileSync(join(dir, 'zeroshot.onnx')).byteLength).toBeLessThan(50_000);
    for (const [name, pair] of [
      ['bundled', SHAPES],
      ['external', dir],
    ]) {
      expect(await quiet(() => main(['export', '--pair', pair!, '--alpha', '0.5', '--out', join(out, `${name}.onnx`)]))).toBe(0);
      expect(await quiet(() => main(['eval', '--pair', pair!, '--alphas', '0:1:0.5', '--out', join(out, `${name}.jsonl`)]))).toBe(0);
    }
    expect(readFileSync(join(out, 'external.onnx')).equals(readFileSync(join(out, 'bundled.onnx')))).toBe(true);
    expect(readFileSync(join(out, 'external.jsonl'), 'utf8')).toBe(readFileSync(join(out, 'bundled.jsonl'), 'utf8'));
  }, 600_000);

  it('refuses a bundle whose manifest does not list a data file the model names', async () => {
    const dir = await externalBundle();
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { models: { zeroShot: Record<string, unknown> } };
    delete m.models.zeroShot.externalData;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    await expect(quiet(() => main(['export', '--pair', dir, '--alpha', '0.5', '--out', join(dir, 'x.onnx')]))).rejects.toThrow(
      /zeroshot\.onnx: tensor '.*' keeps its data in 'zeroshot\.onnx\.data', which was not given \(a bundle lists it under the model's externalData\)/,
    );
  }, 600_000);
});
