// Graph edits on the test pair's checkpoints, for pairs that load but do not fit their manifest or
// fail only when run (issue 13: 3, 7). Both checkpoints get the same edit, so they stay a pair.
import { ModelProtoType } from '../../src/core/onnx/proto';

export type Files = Map<string, Uint8Array>;
type Json = Record<string, unknown>;

export function editManifest(files: Files, edit: (m: Json) => void): Files {
  const out = new Map(files);
  const m = JSON.parse(new TextDecoder().decode(files.get('manifest.json')!)) as Json;
  edit(m);
  out.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
  return out;
}

export function editModels(files: Files, edit: (graph: Json) => void): Files {
  const out = new Map(files);
  for (const path of ['zeroshot.onnx', 'finetuned.onnx']) {
    const obj = ModelProtoType.toObject(ModelProtoType.decode(files.get(path)!), { longs: String, bytes: Array }) as { graph: Json };
    edit(obj.graph);
    out.set(path, ModelProtoType.encode(ModelProtoType.fromObject(obj)).finish());
  }
  return out;
}

const int64s = (name: string, values: number[]) => ({
  name,
  dims: [String(values.length)],
  data_type: 7,
  raw_data: Array.from(new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer)),
});

/** logits computed as [batch, 5], then passed through Reshape ops: `shapes` are their targets. */
export function reshapeLogits(graph: Json, shapes: number[][]): void {
  const nodes = graph.node as { output: string[] }[];
  const mul = nodes.find((n) => n.output[0] === 'logits')!;
  let prev = 'logits.raw';
  mul.output = [prev];
  const inits = graph.initializer as unknown[];
  shapes.forEach((s, i) => {
    const out = i === shapes.length - 1 ? 'logits' : `logits.r${i}`;
    inits.push(int64s(`logits.shape${i}`, s));
    nodes.push({ op_type: 'Reshape', input: [prev, `logits.shape${i}`], output: [out] } as never);
    prev = out;
  });
}

export function setOutputDims(graph: Json, name: string, dims: (number | string)[] | null): void {
  const o = (graph.output as { name: string; type: { tensor_type: { shape?: unknown } } }[]).find((x) => x.name === name)!;
  if (dims === null) delete o.type.tensor_type.shape;
  else o.type.tensor_type.shape = { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: String(d) } : { dim_param: d })) };
}

/** Reshape [batch, 5] → [-1, 7] → [-1, 5]: accepted at load (the batch is symbolic), impossible for a batch of two when run. */
export function failsWhenRun(files: Files): Files {
  return editModels(files, (g) =>
    reshapeLogits(g, [
      [-1, 7],
      [-1, 5],
    ]),
  );
}
