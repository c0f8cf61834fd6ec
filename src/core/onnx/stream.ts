// A ModelProto read from chunks as they arrive, so that a checkpoint is never whole in memory: each
// initializer's raw_data goes straight to where its sink puts it (the blend arena), the rest of the
// model (nodes, inputs, small tensors) is kept and decoded by protobufjs like any other model.
//
// This is the one place that walks protobuf's wire format by hand, and it walks only the framing:
// ModelProto.graph (field 7), GraphProto.initializer (field 5) and TensorProto.raw_data (field 9).
// Every other field is copied byte for byte and decoded by protobufjs, so it is read exactly as
// parseModel reads it (tests/unit/onnx-stream.test.ts checks both readers agree on any chunking).
import { TensorProtoType, type TensorProto } from './proto';
import { OnnxError, checkModel, cspRefusal, decodeModel, describeTensor, notAModel, type OnnxModel } from './model';

export type ChunkSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Where a tensor's raw_data goes: a view of exactly `byteLength` bytes, or null to keep it in the model. */
export interface TensorSink {
  place(header: TensorProto, byteLength: number): Uint8Array | null;
}

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
const LENGTH_DELIMITED = 2;

/**
 * A ReadableStream's chunks (as an async iterable: not every engine's streams are one yet). A byte
 * stream (a fetch's body) is read into one reused buffer, so a download leaves no trail of chunks
 * for the garbage collector: each chunk is valid only until the next one is asked for.
 */
export async function* streamChunks(stream: ReadableStream<Uint8Array>, scratchBytes = 1 << 20): AsyncGenerator<Uint8Array> {
  let byob: ReadableStreamBYOBReader | null = null;
  try {
    byob = stream.getReader({ mode: 'byob' });
  } catch {
    // Not a byte stream: its own chunks, one by one.
  }
  if (!byob) return yield* defaultChunks(stream);
  let buffer = new ArrayBuffer(scratchBytes);
  try {
    for (;;) {
      const { done, value } = await byob.read(new Uint8Array(buffer, 0, scratchBytes));
      if (done || !value) return;
      yield value;
      // The same memory, handed back to us by the read.
      buffer = value.buffer as ArrayBuffer;
    }
  } finally {
    byob.releaseLock();
  }
}

async function* defaultChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Thrown inside the reader; becomes the OnnxError parseModel would give for a malformed file. */
class WireError extends Error {}

/** Bytes pulled from the chunks on demand; `consumed` counts them from the start of the file. */
class ChunkReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private at = 0;
  consumed = 0;
  /** The file's first bytes, to name a lookalike (a PNG, a zip) when the file is not a model. */
  head = new Uint8Array(0);
  private readonly it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;

  constructor(source: ChunkSource) {
    this.it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  }

  /** False at the end of the file. */
  async more(): Promise<boolean> {
    while (this.at >= this.chunk.length) {
      const r = await this.it.next();
      if (r.done) return false;
      if (!(r.value instanceof Uint8Array)) throw new WireError('the stream gave something other than bytes');
      this.chunk = r.value;
      this.at = 0;
      if (this.head.length < 64) this.head = concat([this.head, r.value.subarray(0, 64 - this.head.length)]);
    }
    return true;
  }

  async byte(): Promise<number> {
    if (this.at >= this.chunk.length && !(await this.more())) throw new WireError('the file ends in the middle of a field');
    this.consumed++;
    return this.chunk[this.at++]!;
  }

  /** A varint as a number (exact up to 2^53) and, when asked, its bytes as they were. */
  async varint(raw?: number[]): Promise<number> {
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      const b = await this.byte();
      raw?.push(b);
      value += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return value;
    }
    throw new WireError('a varint runs over 10 bytes');
  }

  /** The next n bytes, handed to `take` piece by piece (views into the chunks: copy what you keep). */
  async pipe(n: number, take: (part: Uint8Array, offset: number) => void): Promise<void> {
    let done = 0;
    while (done < n) {
      if (!(await this.more())) throw new WireError('the file ends in the middle of a field');
      const k = Math.min(n - done, this.chunk.length - this.at);
      take(this.chunk.subarray(this.at, this.at + k), done);
      this.at += k;
      this.consumed += k;
      done += k;
    }
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** Copies (never views) of the bytes kept for protobufjs to decode. */
class Kept {
  readonly parts: Uint8Array[] = [];
  push(bytes: Uint8Array | number[]): void {
    this.parts.push(Uint8Array.from(bytes));
  }
  bytes(): Uint8Array<ArrayBuffer> {
    return concat(this.parts);
  }
}

/** A field's tag and, for a length-delimited one, its length; `end`: where the message ends. */
async function tagOf(r: ChunkReader, end: number): Promise<{ field: number; wire: number; tag: number; length: number }> {
  const tag = await r.varint();
  const field = Math.floor(tag / 8);
  const wire = tag % 8;
  if (field === 0) throw new WireError('a field numbered 0');
  const length = wire === LENGTH_DELIMITED ? await r.varint() : 0;
  if (wire === LENGTH_DELIMITED && r.consumed + length > end) throw new WireError('a field runs past the end of its message');
  return { field, wire, tag, length };
}

/** Copies one field (its value; the tag is already read) to `out`, tag included. */
async function keepField(r: ChunkReader, f: { wire: number; tag: number; length: number }, out: Kept): Promise<void> {
  out.push(varintBytes(f.tag));
  if (f.wire === 0) {
    const raw: number[] = [];
    await r.varint(raw);
    out.push(raw);
    return;
  }
  const n = f.wire === 1 ? 8 : f.wire === 5 ? 4 : f.wire === LENGTH_DELIMITED ? f.length : -1;
  if (n < 0) throw new WireError(`wire type ${f.wire} (groups are not used by ONNX)`);
  if (f.wire === LENGTH_DELIMITED) out.push(varintBytes(f.length));
  await r.pipe(n, (part) => out.push(part));
}

/** Reads fields until `end`, handing the ones `special` claims to it and keeping the rest. */
async function fieldsUntil(
  r: ChunkReader,
  end: number,
  out: Kept,
  special: (f: { field: number; wire: number; length: number }) => Promise<boolean>,
): Promise<void> {
  while (r.consumed < end && (end !== Infinity || (await r.more()))) {
    const f = await tagOf(r, end);
    if (!(await special(f))) await keepField(r, f, out);
  }
  if (end !== Infinity && r.consumed !== end) throw new WireError('a field runs past the end of its message');
}

/** A TensorProto's kept fields, decoded; a malformed one is a malformed file. */
function decodeTensor(bytes: Uint8Array): TensorProto {
  try {
    return TensorProtoType.decode(bytes) as unknown as TensorProto;
  } catch (e) {
    if (e instanceof EvalError) throw e;
    throw new WireError(`protobuf decoding failed: ${(e as Error).message}`);
  }
}

/** One TensorProto of `length` bytes: its header decoded, its raw_data placed by the sink or kept. */
async function readTensor(r: ChunkReader, length: number, sink: TensorSink | undefined): Promise<TensorProto> {
  const header = new Kept();
  const data: { raw?: Uint8Array; placed?: { name: string; byteLength: number } } = {};
  await fieldsUntil(r, r.consumed + length, header, async (f) => {
    if (f.field !== TENSOR_RAW_DATA || f.wire !== LENGTH_DELIMITED) return false;
    // The header so far: writers put name, dims and data_type (fields 1, 2, 8) before raw_data (9).
    const so = decodeTensor(header.bytes());
    const dest = sink?.place(so, f.length) ?? null;
    if (dest && dest.byteLength !== f.length) throw new Error(`the sink gave ${dest.byteLength} bytes for ${f.length}`);
    const into = dest ?? new Uint8Array(f.length);
    await r.pipe(f.length, (part, at) => into.set(part, at));
    data.raw = into;
    data.placed = dest ? { name: so.name, byteLength: f.length } : undefined;
    return true;
  });
  const t = decodeTensor(header.bytes());
  if (data.raw) t.raw_data = data.raw;
  if (data.placed) checkPlaced(t, data.placed);
  return t;
}

/** Fields after raw_data cannot change what the sink was told the tensor is. */
function checkPlaced(t: TensorProto, placed: { name: string; byteLength: number }): void {
  const info = describeTensor(t);
  if (info.name !== placed.name || info.location !== 'raw' || info.byteLength !== placed.byteLength)
    throw new OnnxError(
      `tensor '${info.name}': fields stored after its data (name, type, shape or data location) contradict it; the file is not a model this reader can stream`,
    );
}

/**
 * Reads a model from its chunks. Each initializer's raw_data goes where `sink.place` says (the
 * returned tensors' raw_data are those views), or stays in the model when it says null. Throws
 * the OnnxError parseModel would throw for the same bytes' problems.
 */
export async function readModelStream(source: ChunkSource, label = 'file', sink?: TensorSink): Promise<OnnxModel> {
  const r = new ChunkReader(source);
  const model = new Kept();
  const graph = new Kept();
  const initializer: TensorProto[] = [];
  let hasGraph = false;
  try {
    await fieldsUntil(r, Infinity, model, async (f) => {
      if (f.field !== MODEL_GRAPH || f.wire !== LENGTH_DELIMITED) return false;
      hasGraph = true;
      await fieldsUntil(r, r.consumed + f.length, graph, async (g) => {
        if (g.field !== GRAPH_INITIALIZER || g.wire !== LENGTH_DELIMITED) return false;
        initializer.push(await readTensor(r, g.length, sink));
        return true;
      });
      return true;
    });
  } catch (e) {
    // protobufjs compiles its decoders on first use, which a strict Content-Security-Policy refuses.
    if (e instanceof EvalError) throw cspRefusal(label);
    // The source's own failures (a dropped connection) and the sink's (no memory left) pass as they are.
    if (!(e instanceof WireError)) throw e;
    throw notAModel(r.head, label, `is not a valid ONNX model (${e.message}); is the file truncated or of another format?`);
  }
  if (r.consumed === 0) throw new OnnxError(`${label} is empty (0 bytes): not an ONNX model`);
  return assemble(r.head, label, model, hasGraph ? graph : null, initializer);
}

/** The kept bytes decoded by protobufjs, the initializers put back in their order. */
function assemble(head: Uint8Array, label: string, model: Kept, graph: Kept | null, initializer: TensorProto[]): OnnxModel {
  if (graph) {
    const g = graph.bytes();
    model.push([MODEL_GRAPH * 8 + LENGTH_DELIMITED, ...varintBytes(g.length)]);
    model.parts.push(g);
  }
  const proto = decodeModel(model.bytes(), label, head);
  if (proto.graph) proto.graph.initializer = initializer;
  return checkModel(proto, head, label);
}
