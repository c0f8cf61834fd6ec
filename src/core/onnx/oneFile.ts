// What a downloaded .onnx holds. One file is one protobuf message, which protobuf (and so
// onnxruntime and onnx.checker) caps at 2 GB; a model past that keeps its weights in external data
// files beside it. A file written here either holds every weight inline, so it loads alone, or is
// written with the data file it names: never one that points at files the reader does not have.
import { DATA_LOCATION, OnnxError, describeTensor, parseModel, serializeModel, tensorBytes } from './model';
import { resolveExternalData, type ExternalFiles } from './external';
import { TensorProtoType, type ModelProto, type TensorProto } from './proto';

/** protobuf's cap on one message: onnxruntime refuses a model file larger than this. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;
/** The weights one file is written for: protobuf's cap less 64 MiB for the graph, names and headers. */
export const ONE_FILE_WEIGHTS = 2 ** 31 - 2 ** 26;

export const GB = (n: number) => `${(n / 2 ** 30).toFixed(2)} GB`;

/** Bytes of the model's weights (external ones too: their size is in their shape). */
export function weightBytes(model: ModelProto): number {
  return model.graph!.initializer.reduce((sum, t) => sum + describeTensor(t).byteLength, 0);
}

const isExternal = (t: TensorProto) => t.data_location === DATA_LOCATION.EXTERNAL || (t.external_data?.length ?? 0) > 0;

/** Whether any of the model's weights lies in an external data file. */
export function namesExternalData(model: ModelProto): boolean {
  return model.graph!.initializer.some(isExternal);
}

/** Refuses, with `refuse`'s message, weights that a single ONNX file cannot hold. */
export function checkFitsOneFile(model: ModelProto, refuse: (bytes: number) => string, limit = ONE_FILE_WEIGHTS): void {
  const weights = weightBytes(model);
  if (weights > limit) throw new OnnxError(refuse(weights));
}

/**
 * The model as one self-contained ONNX file: every weight inline (raw_data), none naming a data
 * file, so onnxruntime loads it alone. Weights past a single file's 2 GB are refused with
 * `refuse`'s message, which says what to use instead.
 */
export function oneFileOnnx(model: ModelProto, refuse: (bytes: number) => string, limit = ONE_FILE_WEIGHTS): Uint8Array {
  const outside = model.graph!.initializer.find(isExternal);
  // A bug, not the user's: the caller reads the data files first (resolveExternalData).
  if (outside) throw new OnnxError(`tensor '${outside.name}' still keeps its data in an external file; read its data files first`);
  checkFitsOneFile(model, refuse, limit);
  const bytes = serializeModel(model);
  if (bytes.byteLength > PROTOBUF_LIMIT) throw new OnnxError(refuse(bytes.byteLength));
  return bytes;
}

/**
 * `bytes` (a model that may name external data files) as one self-contained file, as oneFileOnnx
 * writes it; `files` is asked for its data files only when it names some. A model naming none is
 * handed back as it is.
 */
export async function inlineOnnx(
  bytes: Uint8Array,
  files: () => Promise<ExternalFiles>,
  label: string,
  refuse: (bytes: number) => string,
  limit = ONE_FILE_WEIGHTS,
): Promise<Uint8Array> {
  const model = parseModel(bytes, label);
  checkFitsOneFile(model.proto, refuse, limit);
  if (!namesExternalData(model.proto)) {
    if (bytes.byteLength > PROTOBUF_LIMIT) throw new OnnxError(refuse(bytes.byteLength));
    return bytes;
  }
  resolveExternalData(model, await files(), label);
  return oneFileOnnx(model.proto, refuse, limit);
}

/** Data files are laid out at 4 KiB offsets, so a runtime that maps them needs no copy to align a tensor. */
const ALIGN = 4096;

/** One weight as an external tensor at `offset` of `location`. */
function externalTensor(t: TensorProto, location: string, offset: number, length: number): TensorProto {
  const entries = { location, offset: String(offset), length: String(length) };
  return TensorProtoType.create({
    name: t.name,
    dims: t.dims,
    data_type: t.data_type,
    doc_string: t.doc_string ?? '',
    data_location: DATA_LOCATION.EXTERNAL,
    external_data: Object.entries(entries).map(([key, value]) => ({ key, value })),
  }) as unknown as TensorProto;
}

/**
 * The model split as onnx.save_model(..., save_as_external_data=True, all_tensors_to_one_file=True)
 * splits it: the graph, whose every weight names `location` (a file beside it) at its offset, and
 * that file's contents as parts to write in order (never joined: past 2 GB one array is a risk).
 */
export function splitOnnx(model: ModelProto, location: string): { model: Uint8Array; data: Uint8Array[] } {
  const data: Uint8Array[] = [];
  let offset = 0;
  const initializer = model.graph!.initializer.map((t) => {
    const pad = (ALIGN - (offset % ALIGN)) % ALIGN;
    if (pad > 0) data.push(new Uint8Array(pad));
    offset += pad;
    const raw = t.raw_data && t.raw_data.byteLength === describeTensor(t).byteLength ? t.raw_data : tensorBytes(t);
    data.push(raw);
    const out = externalTensor(t, location, offset, raw.byteLength);
    offset += raw.byteLength;
    return out;
  });
  return { model: serializeModel({ ...model, graph: { ...model.graph!, initializer } }), data };
}
