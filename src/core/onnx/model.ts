import { ModelProtoType, TensorProtoType, type Int64, type ModelProto, type TensorProto, type GraphProto } from './proto';

/** Thrown for anything wrong with an ONNX file; the message is meant for the user. */
export class OnnxError extends Error {
  override name = 'OnnxError';
}

export type DType =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string';

// TensorProto.DataType numbering from onnx.proto.
const DTYPES: Record<number, { name: DType; bytes: number }> = {
  1: { name: 'float32', bytes: 4 },
  2: { name: 'uint8', bytes: 1 },
  3: { name: 'int8', bytes: 1 },
  4: { name: 'uint16', bytes: 2 },
  5: { name: 'int16', bytes: 2 },
  6: { name: 'int32', bytes: 4 },
  7: { name: 'int64', bytes: 8 },
  8: { name: 'string', bytes: 0 },
  9: { name: 'bool', bytes: 1 },
  10: { name: 'float16', bytes: 2 },
  11: { name: 'float64', bytes: 8 },
  12: { name: 'uint32', bytes: 4 },
  13: { name: 'uint64', bytes: 8 },
  16: { name: 'bfloat16', bytes: 2 },
};
export function dtypeName(dataType: number): DType | undefined {
  return Object.hasOwn(DTYPES, dataType) ? DTYPES[dataType]?.name : undefined;
}
/** TensorProto.DataType values the blend path and the benchmark models write (onnx.proto numbering). */
export const DATA_TYPE = { FLOAT: 1, INT64: 7, FLOAT16: 10 } as const;
/** TensorProto.DataLocation: EXTERNAL keeps the values in another file. */
export const DATA_LOCATION = { DEFAULT: 0, EXTERNAL: 1 } as const;

export function dtypeOf(dataType: number, tensor?: string): { name: DType; bytes: number } {
  // hasOwn: a decoded data_type is any int32, and must not find Object.prototype's members.
  const d = Object.hasOwn(DTYPES, dataType) ? DTYPES[dataType] : undefined;
  if (!d) throw new OnnxError(`unsupported tensor data type ${dataType}${tensor === undefined ? '' : ` (tensor '${tensor}')`}`);
  return d;
}

// Nothing that runs in a browser can hold a tensor of more elements than this; anything larger
// is a corrupt or hostile header, and must not reach an allocation.
const MAX_ELEMENTS = 2 ** 32;

export function toInt(v: Int64 | undefined | null, what: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'number' ? v : v.toNumber();
  // String(v), not String(n): a Long prints its exact value, which the rounded double would hide.
  if (!Number.isSafeInteger(n)) throw new OnnxError(`${what} is not a usable integer (${String(v)})`);
  return n;
}

export function shapeOf(t: TensorProto): number[] {
  const shape = t.dims.map((d, i) => toInt(d, `dimension ${i} of tensor '${t.name}'`));
  if (shape.some((d) => d < 0)) throw new OnnxError(`tensor '${t.name}' has a negative dimension [${shape.join(', ')}]`);
  return shape;
}

export function elementCount(shape: readonly number[], tensor?: string): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > MAX_ELEMENTS)
      throw new OnnxError(`tensor${tensor === undefined ? '' : ` '${tensor}'`} of shape [${shape.join(', ')}] is too large`);
  }
  return n;
}

export type DataLocation = 'raw' | 'typed' | 'external';

export interface InitializerInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** Bytes of the tensor's values at its stored dtype. */
  byteLength: number;
  location: DataLocation;
}

export interface OnnxModel {
  proto: ModelProto;
  graph: GraphProto;
}

// Files people drop instead of a model, recognised by their first bytes. Consulted only once
// decoding has failed: protobuf has no magic number, so a sniff must never refuse a model.
const LOOKALIKES: { test: (b: Uint8Array, head: string) => boolean; what: string }[] = [
  { test: (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47, what: 'a PNG image' },
  { test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff, what: 'a JPEG image' },
  {
    test: (b) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04,
    what: 'a zip archive (unzip it and pick the .onnx file inside)',
  },
  { test: (b) => b[0] === 0x1f && b[1] === 0x8b, what: 'a gzip archive (decompress it first)' },
  // A clone without `git lfs` leaves these small text files where the weights should be.
  { test: (_, h) => h.startsWith('version https://git-lfs'), what: 'a Git LFS pointer, not the file itself (run `git lfs pull`)' },
  { test: (_, h) => /^\s*<(!doctype|html|\?xml)/i.test(h), what: 'an HTML or XML page (a download link that served a web page?)' },
  { test: (_, h) => /^\s*[{[]/.test(h), what: 'JSON text' },
  {
    test: (b) => b[0] === 0x80 && (b[1] ?? 0) >= 2 && (b[1] ?? 0) <= 5,
    what: 'a Python pickle (a PyTorch checkpoint? export it to ONNX first)',
  },
];

export function notAModel(bytes: Uint8Array, label: string, reason: string): OnnxError {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 64));
  const like = LOOKALIKES.find((l) => l.test(bytes, head));
  return new OnnxError(like ? `${label} looks like ${like.what}, not an ONNX model` : `${label} ${reason}`);
}

/** What protobufjs's EvalError means: the page's policy, not the file. */
export function cspRefusal(label: string): OnnxError {
  return new OnnxError(
    `${label} cannot be read here: this page's Content-Security-Policy forbids the code generation protobufjs needs ('unsafe-eval' in script-src)`,
  );
}

/** protobufjs's decoding, its failures as OnnxErrors (`head`: the file's first bytes, when `bytes` are not all of it). */
export function decodeModel(bytes: Uint8Array, label: string, head: Uint8Array = bytes): ModelProto {
  try {
    return ModelProtoType.decode(bytes) as unknown as ModelProto;
  } catch (e) {
    // protobufjs builds its decoders with new Function on first use: a Content-Security-Policy
    // without 'unsafe-eval' stops that, whatever the file (measured in the built app's CSP test).
    if (e instanceof EvalError) throw cspRefusal(label);
    // protobufjs throws plain Errors, RangeErrors (a nesting deep enough to exhaust the stack)
    // and TypeErrors alike for malformed input: all of them mean "not a readable model".
    throw notAModel(
      head,
      label,
      `is not a valid ONNX model (protobuf decoding failed: ${(e as Error).message}); is the file truncated or of another format?`,
    );
  }
}

/** Decode a ModelProto; every failure becomes an OnnxError naming what is wrong. */
export function parseModel(bytes: Uint8Array, label = 'file'): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw new OnnxError(`${label}: expected bytes`);
  if (bytes.byteLength === 0) throw new OnnxError(`${label} is empty (0 bytes): not an ONNX model`);
  const proto = decodeModel(bytes, label);
  return checkModel(proto, bytes, label);
}

/** The checks every decoded ModelProto passes (`bytes`: at least the file's first bytes, to name a lookalike). */
export function checkModel(proto: ModelProto, bytes: Uint8Array, label: string): OnnxModel {
  const graph = proto.graph;
  if (!graph || (graph.node.length === 0 && graph.output.length === 0)) {
    throw notAModel(bytes, label, 'is not an ONNX model: it has no graph; is the file truncated or of another format?');
  }
  if (proto.ir_version === undefined || proto.ir_version === null || toInt(proto.ir_version, 'ir_version') <= 0) {
    throw notAModel(bytes, label, 'is not an ONNX model: no IR version');
  }
  if (graph.output.length === 0) throw new OnnxError(`${label}: the graph has no outputs`);
  // onnx.proto requires one; without it no runtime can tell which operators the nodes mean.
  if (proto.opset_import.length === 0)
    throw new OnnxError(`${label}: the model imports no operator set (opset_import is empty); is the file truncated?`);
  // Validate every initializer header now, so that a hostile dim cannot surprise a later stage.
  for (const t of graph.initializer) describeTensor(t);
  return { proto, graph };
}

export function serializeModel(model: OnnxModel | ModelProto): Uint8Array {
  const proto = 'proto' in model ? model.proto : model;
  // encode() takes plain objects as well as decoded messages, so rewritten graphs need no fromObject.
  return ModelProtoType.encode(proto as unknown as Record<string, unknown>).finish();
}

function externalEntry(t: TensorProto, key: string): string | undefined {
  return t.external_data.find((e) => e.key === key)?.value;
}

/**
 * A copy with its own ArrayBuffer. Not `.slice()`: protobufjs hands out Node Buffers in Node, whose
 * slice() is a view into a shared pool.
 */
export function copyBytes(src: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(src.byteLength);
  out.set(src);
  return out;
}

export function describeTensor(t: TensorProto): InitializerInfo {
  const { name: dtype, bytes } = dtypeOf(t.data_type, t.name);
  const shape = shapeOf(t);
  const count = elementCount(shape, t.name);
  const location: DataLocation =
    t.data_location === DATA_LOCATION.EXTERNAL ? 'external' : t.raw_data && t.raw_data.byteLength > 0 ? 'raw' : 'typed';
  return { name: t.name, dtype, shape, byteLength: count * bytes, location };
}

export function listInitializers(model: OnnxModel): InitializerInfo[] {
  return model.graph.initializer.map(describeTensor);
}

/** A tensor's values as stored (float16 and bfloat16 as raw Uint16 bits). Always a fresh copy. */
export type TensorValues =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int32Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export function tensorValues(t: TensorProto): TensorValues {
  const info = describeTensor(t);
  if (info.location === 'external') {
    throw new OnnxError(
      `tensor '${t.name}' keeps its data in an external file ('${externalEntry(t, 'location') ?? '?'}'); load the model with its data files`,
    );
  }
  if (info.location === 'raw') {
    const raw = t.raw_data!;
    if (raw.byteLength !== info.byteLength) {
      throw new OnnxError(
        `tensor '${t.name}' should hold ${info.byteLength} bytes for ${info.dtype}[${info.shape.join(', ')}] but holds ${raw.byteLength}`,
      );
    }
    // Copy to an aligned buffer: raw_data views into the file at arbitrary offsets.
    return rawValues(t.name, info.dtype, copyBytes(raw).buffer);
  }
  return typedValues(t, info.dtype, elementCount(info.shape));
}

/** Little-endian raw_data bytes as the dtype's array. */
function rawValues(name: string, dtype: DType, buf: ArrayBuffer): TensorValues {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'float16':
    case 'bfloat16':
    case 'uint16':
      return new Uint16Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'uint32':
      return new Uint32Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'uint64':
      return new BigUint64Array(buf);
    default:
      throw new OnnxError(`tensor '${name}': ${dtype} initializers are not supported`);
  }
}

/** Values kept in the typed fields (float_data, int32_data...), which must hold `count` of them. */
function typedValues(t: TensorProto, dtype: DType, count: number): TensorValues {
  const typed = (arr: ArrayLike<number>, what: string): ArrayLike<number> => {
    if (arr.length !== count) throw new OnnxError(`tensor '${t.name}' should hold ${count} values in ${what} but holds ${arr.length}`);
    return arr;
  };
  switch (dtype) {
    case 'float32':
      return Float32Array.from(typed(t.float_data, 'float_data'));
    case 'float64':
      return Float64Array.from(typed(t.double_data, 'double_data'));
    // int32_data carries the bit patterns of 16-bit floats and of all small integer types.
    case 'float16':
    case 'bfloat16':
    case 'uint16':
      return Uint16Array.from(typed(t.int32_data, 'int32_data'));
    case 'int32':
      return Int32Array.from(typed(t.int32_data, 'int32_data'));
    case 'int16':
      return Int16Array.from(typed(t.int32_data, 'int32_data'));
    case 'int8':
      return Int8Array.from(typed(t.int32_data, 'int32_data'));
    case 'uint8':
    case 'bool':
      return Uint8Array.from(typed(t.int32_data, 'int32_data'));
    case 'int64': {
      if (t.int64_data.length !== count)
        throw new OnnxError(`tensor '${t.name}' should hold ${count} values in int64_data but holds ${t.int64_data.length}`);
      return BigInt64Array.from(t.int64_data, (v) =>
        typeof v === 'number' ? BigInt(v) : BigInt.asIntN(64, (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0)),
      );
    }
    default:
      throw new OnnxError(`tensor '${t.name}': ${dtype} initializers are not supported`);
  }
}

/** Bytes of a tensor's values in the raw_data layout (little-endian), whatever field holds them. */
export function tensorBytes(t: TensorProto): Uint8Array {
  const v = tensorValues(t);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** A new TensorProto with the same name, dtype and shape, holding `values` as raw_data. */
export function withValues(t: TensorProto, values: ArrayBufferView): TensorProto {
  const raw = copyBytes(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  const info = describeTensor(t);
  if (raw.byteLength !== info.byteLength)
    throw new OnnxError(`tensor '${t.name}': new values have ${raw.byteLength} bytes, expected ${info.byteLength}`);
  return TensorProtoType.create({
    name: t.name,
    dims: t.dims,
    data_type: t.data_type,
    raw_data: raw,
    doc_string: t.doc_string ?? '',
  }) as unknown as TensorProto;
}
