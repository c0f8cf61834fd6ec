import { DATA_LOCATION, OnnxError, describeTensor, type OnnxModel } from './model';
import type { TensorProto } from './proto';

/**
 * External data files by their ONNX `location`: the path relative to the model file's folder, as
 * onnx.save_model(..., save_as_external_data=True, location=...) writes it.
 */
export type ExternalFiles = ReadonlyMap<string, Uint8Array>;

const entry = (t: TensorProto, key: string) => t.external_data.find((e) => e.key === key)?.value;

/** offset / length as ONNX writes them (decimal strings); absent: `fallback`. */
function byteCount(t: TensorProto, key: 'offset' | 'length', fallback: number): number {
  const v = entry(t, key);
  if (v === undefined) return fallback;
  const n = /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new OnnxError(`tensor '${t.name}': its external data ${key} '${v}' is not a byte count`);
  return n;
}

/**
 * Gives every initializer that keeps its values in an external file (data_location EXTERNAL) its
 * bytes, as a view of that file at the tensor's offset and length, so the rest of the engine reads
 * it like any other tensor. Large models (over protobuf's 2 GB, as ViT-L/14 pairs are) are saved
 * this way. A file that is not given, a range outside it or a length that does not fit the
 * tensor's shape is refused by name.
 */
export function resolveExternalData(model: OnnxModel, files: ExternalFiles, label: string): void {
  for (const t of model.graph.initializer) {
    if (t.data_location !== DATA_LOCATION.EXTERNAL) continue;
    const location = entry(t, 'location');
    if (!location) throw new OnnxError(`${label}: tensor '${t.name}' keeps its data in an external file but does not name it`);
    const file = files.get(location.replace(/^\.\//, ''));
    if (!file)
      throw new OnnxError(
        `${label}: tensor '${t.name}' keeps its data in '${location}', which was not given (a bundle lists it under the model's externalData)`,
      );
    const info = describeTensor(t);
    const offset = byteCount(t, 'offset', 0);
    const length = byteCount(t, 'length', info.byteLength);
    if (length !== info.byteLength)
      throw new OnnxError(
        `${label}: tensor '${t.name}' is ${info.dtype}[${info.shape.join(', ')}] (${info.byteLength} bytes), but its external data is ${length} bytes long`,
      );
    if (offset + length > file.byteLength)
      throw new OnnxError(
        `${label}: tensor '${t.name}' reads bytes ${offset}–${offset + length} of '${location}', which has ${file.byteLength}: is the data file truncated or another model's?`,
      );
    t.raw_data = file.subarray(offset, offset + length);
    // Unset, not DEFAULT: the tensor then encodes exactly as one saved inline (an export is the same bytes).
    delete (t as { data_location?: number }).data_location;
    t.external_data = [];
  }
}
