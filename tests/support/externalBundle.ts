// The bundled pair re-saved as large models are saved: each checkpoint's weights in an external data
// file beside it, listed under the manifest's externalData (tests/node/external-data checks the
// reader against a file onnx itself wrote).
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelProtoType } from '../../src/core/onnx/proto';
import { sha256Hex } from '../../src/core/util/hash';

export const SHAPES = 'public/pairs/shapes';

/**
 * The model with every initializer's raw_data moved to `<location>` as onnx.save_model(...,
 * save_as_external_data=True) writes it (location, offset, length).
 */
export function toExternal(bytes: Uint8Array, location: string): { model: Uint8Array; data: Uint8Array } {
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

/** The bundled pair with both checkpoints' weights in external data files, listed in the manifest: its folder. */
export async function externalBundle(): Promise<string> {
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
