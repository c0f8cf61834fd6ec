import {
  NodeProtoType,
  ValueInfoProtoType,
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
  type ModelProto,
} from './proto';
import {
  OnnxError,
  copyBytes,
  describeTensor,
  dtypeName,
  tensorBytes,
  DATA_TYPE,
  type InitializerInfo,
  type OnnxModel,
  toInt,
} from './model';

export interface TensorMismatch {
  name: string;
  /** What differs, in words: "missing from fine-tuned", "shape", "dtype". */
  kind: 'missing' | 'shape' | 'dtype';
  zeroShot?: string;
  fineTuned?: string;
}

/** Two checkpoints that cannot be blended; the message names the first mismatching tensors. */
export class PairMismatchError extends OnnxError {
  override name = 'PairMismatchError';
  constructor(
    message: string,
    readonly mismatches: TensorMismatch[] = [],
  ) {
    super(message);
  }
}

// AttributeProto.AttributeType.INT (onnx.proto): Cast's `to` is an int.
const ATTRIBUTE_INT = 2;

const fmt = (i: InitializerInfo) => `${i.dtype}[${i.shape.join(', ')}]`;

function nodeSignature(n: NodeProto): string {
  // Encoding the node (attributes included) is the canonical way to compare it: two nodes are the
  // same op exactly when their protobuf bytes match, whatever order the fields were set in.
  const bytes = NodeProtoType.encode(n as unknown as Record<string, unknown>).finish();
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return `${bytes.length}:${h >>> 0}`;
}

function describeNode(n: NodeProto, i: number): string {
  return `#${i} ${n.op_type}${n.name ? ` '${n.name}'` : ''} (${n.input.join(', ')} → ${n.output.join(', ')})`;
}

/** An attribute's value in words (ints, floats, a string...): for the one that differs. */
function attributeValue(a: AttributeProto | undefined): string {
  if (!a) return 'absent';
  const list = (v: unknown) => (Array.isArray(v) && v.length > 0 ? `[${v.map(String).join(', ')}]` : null);
  const str = (v: unknown) => (v instanceof Uint8Array ? `'${new TextDecoder().decode(v)}'` : null);
  return (
    list(a.ints) ??
    list(a.floats) ??
    (Array.isArray(a.strings) && a.strings.length ? `[${a.strings.map((x) => str(x)).join(', ')}]` : null) ??
    (a.i !== undefined && a.i !== null && String(a.i) !== '0' ? String(a.i) : null) ??
    (a.f !== undefined && a.f !== null && a.f !== 0 ? String(a.f) : null) ??
    str(a.s) ??
    (a.t ? 'a tensor' : a.g ? 'a subgraph' : String(a.i ?? a.f ?? '(empty)'))
  );
}

/**
 * What differs between two nodes whose encodings differ. The node's usual description (op, name,
 * inputs, outputs) is the same on both sides when only an attribute changed: then name it.
 */
function nodeDifference(na: NodeProto, nb: NodeProto, i: number): string {
  const da = describeNode(na, i);
  const db = describeNode(nb, i);
  if (da !== db) return `${da} vs ${db}`;
  const names = [...new Set([...na.attribute, ...nb.attribute].map((x) => x.name))];
  for (const name of names) {
    const va = attributeValue(na.attribute.find((x) => x.name === name));
    const vb = attributeValue(nb.attribute.find((x) => x.name === name));
    if (va !== vb) return `${da}: attribute '${name}' is ${va} in the zero-shot model and ${vb} in the fine-tuned model`;
  }
  return `${da}: the same op and tensors, but its encoding differs (an attribute's type, the domain or the doc string)`;
}

function valueInfoSignature(v: ValueInfoProto): string {
  const tt = v.type?.tensor_type;
  const dims = tt?.shape?.dim.map((d) => d.dim_param || String(toInt(d.dim_value, `a dimension of '${v.name}'`))).join(', ') ?? '?';
  // The dtype by name where it has one: the message is read by someone comparing two exports.
  const elem = tt?.elem_type === undefined || tt.elem_type === null ? '?' : (dtypeName(tt.elem_type) ?? `type ${tt.elem_type}`);
  return `${v.name}: ${elem}[${dims}]`;
}

/** A rename is the likeliest cause when exactly one tensor is missing on each side with one dtype and shape. */
function renameHint(mismatches: readonly TensorMismatch[]): string {
  const goneFromFt = mismatches.filter((m) => m.fineTuned === 'missing');
  const goneFromZs = mismatches.filter((m) => m.zeroShot === 'missing');
  if (goneFromFt.length !== 1 || goneFromZs.length !== 1 || goneFromFt[0]!.zeroShot !== goneFromZs[0]!.fineTuned) return '';
  return ` Was the tensor renamed '${goneFromFt[0]!.name}' → '${goneFromZs[0]!.name}'?`;
}

export interface PairAnalysis {
  /** Initializers whose values differ: these become graph inputs and are blended. */
  differing: InitializerInfo[];
  /** Initializers equal in both checkpoints: they stay baked into the graph. */
  shared: InitializerInfo[];
}

/**
 * Checks that two checkpoints share one graph and one set of tensors (names, dtypes, shapes), and
 * says which tensors differ in value. Throws PairMismatchError naming the first mismatches.
 */
export function analyzePair(zeroShot: OnnxModel, fineTuned: OnnxModel): PairAnalysis {
  const aInits = initializersByName(zeroShot.graph, 'zero-shot');
  const bInits = initializersByName(fineTuned.graph, 'fine-tuned');
  checkTensors(aInits, bInits);
  checkSignatures(zeroShot.graph, fineTuned.graph, aInits, bInits);
  checkNodes(zeroShot.graph, fineTuned.graph);
  const differing: InitializerInfo[] = [];
  const shared: InitializerInfo[] = [];
  for (const [name, ta] of aInits) {
    (bytesEqual(storedBytes(ta), storedBytes(bInits.get(name)!)) ? shared : differing).push(describeTensor(ta));
  }
  return { differing, shared };
}

function initializersByName(g: GraphProto, which: string): Map<string, TensorProto> {
  const byName = new Map(g.initializer.map((t) => [t.name, t]));
  if (byName.size !== g.initializer.length) throw new PairMismatchError(`the ${which} model has two initializers with the same name`);
  return byName;
}

/** Every tensor on both sides, with one dtype and shape. */
function checkTensors(aInits: ReadonlyMap<string, TensorProto>, bInits: ReadonlyMap<string, TensorProto>): void {
  const mismatches: TensorMismatch[] = [];
  for (const [name, ta] of aInits) {
    const tb = bInits.get(name);
    const ia = describeTensor(ta);
    if (!tb) {
      mismatches.push({ name, kind: 'missing', zeroShot: fmt(ia), fineTuned: 'missing' });
      continue;
    }
    const ib = describeTensor(tb);
    if (ia.dtype !== ib.dtype) mismatches.push({ name, kind: 'dtype', zeroShot: fmt(ia), fineTuned: fmt(ib) });
    else if (ia.shape.join(',') !== ib.shape.join(',')) mismatches.push({ name, kind: 'shape', zeroShot: fmt(ia), fineTuned: fmt(ib) });
  }
  for (const [name, tb] of bInits) {
    if (!aInits.has(name)) mismatches.push({ name, kind: 'missing', zeroShot: 'missing', fineTuned: fmt(describeTensor(tb)) });
  }
  if (mismatches.length > 0) throw new PairMismatchError(mismatchMessage(mismatches), mismatches);
}

/** The first three mismatches in words, the count of the rest, and a rename hint where one fits. */
function mismatchMessage(mismatches: readonly TensorMismatch[]): string {
  const shown = mismatches.slice(0, 3).map((m) => {
    if (m.fineTuned === 'missing') return `'${m.name}' (${m.zeroShot}) is missing from the fine-tuned model`;
    if (m.zeroShot === 'missing') return `'${m.name}' (${m.fineTuned}) is missing from the zero-shot model`;
    return `'${m.name}' (zero-shot ${m.zeroShot}, fine-tuned ${m.fineTuned})`;
  });
  const more = mismatches.length > 3 ? ` and ${mismatches.length - 3} more` : '';
  const n = mismatches.length;
  return `These checkpoints cannot be blended: ${n} tensor${n > 1 ? 's' : ''} differ in name, dtype or shape: ${shown.join('; ')}${more}.${renameHint(mismatches)}`;
}

/** The same graph inputs (other than weights) and outputs, by name, dtype and shape. */
function checkSignatures(
  a: GraphProto,
  b: GraphProto,
  aInits: ReadonlyMap<string, TensorProto>,
  bInits: ReadonlyMap<string, TensorProto>,
): void {
  const sigA = a.input.filter((v) => !aInits.has(v.name)).map(valueInfoSignature);
  const sigB = b.input.filter((v) => !bInits.has(v.name)).map(valueInfoSignature);
  if (sigA.join('|') !== sigB.join('|')) {
    throw new PairMismatchError(
      `These checkpoints cannot be blended: their inputs differ (zero-shot ${sigA.join(', ')}; fine-tuned ${sigB.join(', ')}).`,
    );
  }
  const outA = a.output.map(valueInfoSignature);
  const outB = b.output.map(valueInfoSignature);
  if (outA.join('|') !== outB.join('|')) {
    throw new PairMismatchError(
      `These checkpoints cannot be blended: their outputs differ (zero-shot ${outA.join(', ')}; fine-tuned ${outB.join(', ')}).`,
    );
  }
}

/** The same nodes in the same order: one session's graph must serve both checkpoints. */
function checkNodes(a: GraphProto, b: GraphProto): void {
  if (a.node.length !== b.node.length) {
    throw new PairMismatchError(`These checkpoints cannot be blended: their graphs differ (${a.node.length} vs ${b.node.length} nodes).`);
  }
  for (let i = 0; i < a.node.length; i++) {
    const na = a.node[i]!;
    const nb = b.node[i]!;
    if (nodeSignature(na) !== nodeSignature(nb)) {
      throw new PairMismatchError(`These checkpoints cannot be blended: their graphs differ at node ${nodeDifference(na, nb, i)}.`);
    }
  }
}

/**
 * A tensor's value bytes: raw_data itself where it is aligned and whole (a streamed load's views
 * of the blend memory: comparing them in place allocates nothing), else a fresh copy.
 */
function storedBytes(t: TensorProto): Uint8Array {
  const raw = t.raw_data;
  const info = describeTensor(t);
  if (raw && info.location === 'raw' && raw.byteLength === info.byteLength && raw.byteOffset % 4 === 0) return raw;
  return tensorBytes(t);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  // Compare 4 bytes at a time where alignment allows; tensors are multiples of their element size.
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 && a.byteLength % 4 === 0) {
    const x = new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4);
    const y = new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The model rewritten once so that each named initializer is a graph input instead: one ORT
 * session then serves every α, with the blended weights fed at run time. The lifted weights'
 * values are dropped and the kept ones copied, so the result holds no view into the file's bytes
 * (which can then be freed) and the session holds no copy of the blended weights.
 *
 * `widen` names float16 weights to be fed as float32 (blended in f32 where the GPU has no
 * shader-f16, and on the CPU). Where every consumer is a Cast (fp16 storage, fp32 compute, as
 * exporters write weight-compressed models) the Cast takes the float32 input as it is; elsewhere
 * a Cast back to float16 is inserted.
 */
export function liftInitializers(model: OnnxModel, names: ReadonlySet<string>, widen: ReadonlySet<string> = new Set()): ModelProto {
  const g = model.graph;
  const lifted: TensorProto[] = g.initializer.filter((t) => names.has(t.name));
  const kept = g.initializer.filter((t) => !names.has(t.name)).map((t) => (t.raw_data ? { ...t, raw_data: copyBytes(t.raw_data) } : t));
  const castBack: NodeProto[] = [];
  const inputFor = (t: TensorProto): { name: string; elemType: number } => {
    if (!widen.has(t.name) || t.data_type !== DATA_TYPE.FLOAT16) return { name: t.name, elemType: t.data_type };
    const consumers = g.node.filter((n) => n.input.includes(t.name));
    if (consumers.length > 0 && consumers.every((n) => n.op_type === 'Cast' && (n.domain ?? '') === ''))
      return { name: t.name, elemType: DATA_TYPE.FLOAT };
    const wide = `${t.name}::float32`;
    const to = { name: 'to', type: ATTRIBUTE_INT, i: DATA_TYPE.FLOAT16 };
    castBack.push(NodeProtoType.fromObject({ op_type: 'Cast', input: [wide], output: [t.name], attribute: [to] }) as unknown as NodeProto);
    return { name: wide, elemType: DATA_TYPE.FLOAT };
  };
  const inputs = g.input.filter((v) => !names.has(v.name)); // IR < 4 lists initializers as inputs too
  const newInputs: ValueInfoProto[] = lifted.map((t) => {
    const { name, elemType } = inputFor(t);
    return ValueInfoProtoType.fromObject({
      name,
      type: { tensor_type: { elem_type: elemType, shape: { dim: describeTensor(t).shape.map((d) => ({ dim_value: d })) } } },
    }) as unknown as ValueInfoProto;
  });
  return {
    ...model.proto,
    graph: { ...g, node: [...castBack, ...g.node], initializer: kept, input: [...inputs, ...newInputs] },
  };
}

/** The feed name of a lifted weight (differs from its name where a Cast back to float16 was inserted). */
export function feedName(lifted: ModelProto, name: string): string {
  const wide = `${name}::float32`;
  return lifted.graph!.input.some((v) => v.name === wide) ? wide : name;
}

/** The inverse of liftInitializers: the given tensors become initializers again (an exported θ(α)). */
export function bakeInitializers(lifted: ModelProto, tensors: readonly TensorProto[]): ModelProto {
  const g = lifted.graph!;
  const names = new Set(tensors.map((t) => t.name));
  return {
    ...lifted,
    graph: { ...g, input: g.input.filter((v) => !names.has(v.name)), initializer: [...g.initializer, ...tensors] },
  };
}
