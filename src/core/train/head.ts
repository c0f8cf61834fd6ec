// The linear head of a checkpoint: logits = embedding · weightᵀ + bias, with the embedding
// L2-normalised by the graph and the logit scale folded into `weight` (tools/models.py
// ImageClassifier; the ONNX export is Gemm(embedding, head.weight, head.bias, transB=1)). Read from
// the zero-shot model to start a linear probe, and written back into the same bytes afterwards.
import { parseModel, serializeModel, tensorValues, describeTensor, type OnnxModel } from '../onnx/model';
import { halvesToFloats } from '../onnx/half';
import { replaceInitializers } from '../onnx/initializers';
import { TrainingError } from './data';

/** A linear classifier over D-dimensional features: weight [classes, dim] row-major, bias [classes]. */
export interface LinearHead {
  weight: Float32Array;
  bias: Float32Array;
  classes: number;
  dim: number;
}

/** Where the head lives in a checkpoint; the bundled pair and tools/clip_export both name it so. */
export interface HeadNames {
  weight: string;
  bias: string;
}

export const DEFAULT_HEAD: HeadNames = { weight: 'head.weight', bias: 'head.bias' };

function floatValues(model: OnnxModel, name: string): { values: Float32Array; shape: number[]; dtype: string } {
  const t = model.graph.initializer.find((x) => x.name === name);
  if (!t) {
    const names = model.graph.initializer.map((x) => x.name);
    throw new TrainingError(`the model has no initializer '${name}', so its linear head cannot be found (its initializers: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}); name the head's tensors in the options`);
  }
  const info = describeTensor(t);
  const v = tensorValues(t);
  if (info.dtype === 'float32') return { values: v as Float32Array, shape: info.shape, dtype: info.dtype };
  if (info.dtype === 'float16') return { values: halvesToFloats(v as Uint16Array), shape: info.shape, dtype: info.dtype };
  throw new TrainingError(`the head tensor '${name}' is ${info.dtype}; a linear probe needs float32 or float16 weights`);
}

/** The head of a checkpoint (float16 files are widened to float32). */
export function readHead(model: Uint8Array | OnnxModel, names: HeadNames = DEFAULT_HEAD): LinearHead {
  const m = model instanceof Uint8Array ? parseModel(model, 'model') : model;
  const w = floatValues(m, names.weight);
  const b = floatValues(m, names.bias);
  // [classes, dim] is the Gemm transB=1 layout; a [dim, classes] head would need a transpose that
  // cannot be told apart from this one when classes = dim, so it is refused rather than guessed.
  if (w.shape.length !== 2 || b.shape.length !== 1 || b.shape[0] !== w.shape[0]) {
    throw new TrainingError(`the head is '${names.weight}' [${w.shape.join(', ')}] and '${names.bias}' [${b.shape.join(', ')}]; a linear probe needs weight [classes, dim] and bias [classes]`);
  }
  return { weight: w.values, bias: b.values, classes: w.shape[0]!, dim: w.shape[1]! };
}

/**
 * The model's bytes with `head` in place of its head: the same graph, every other initializer as it
 * was, and the head in the file's dtype (fp16 stays fp16). A head of another shape is refused, so
 * the graph around it never needs to change.
 */
export function writeHead(modelBytes: Uint8Array, head: LinearHead, names: HeadNames = DEFAULT_HEAD): Uint8Array {
  const m = parseModel(modelBytes, 'model');
  const old = readHead(m, names);
  if (old.classes !== head.classes || old.dim !== head.dim) {
    throw new TrainingError(`the trained head is [${head.classes}, ${head.dim}] but the model's '${names.weight}' is [${old.classes}, ${old.dim}]: train the head from this model's own head`);
  }
  checkHead(head, 'the trained head');
  return serializeModel(replaceInitializers(m, new Map([[names.weight, head.weight], [names.bias, head.bias]])));
}

/** Sizes agree and every value is finite: a NaN written into a checkpoint would only show up as a blank frontier. */
export function checkHead(head: LinearHead, what: string): void {
  if (!(head.classes >= 2 && head.dim >= 1 && Number.isInteger(head.classes) && Number.isInteger(head.dim))) {
    throw new TrainingError(`${what} has ${head.classes} classes of dimension ${head.dim}; it needs at least 2 classes and 1 dimension`);
  }
  if (head.weight.length !== head.classes * head.dim || head.bias.length !== head.classes) {
    throw new TrainingError(`${what} should hold ${head.classes}×${head.dim} weights and ${head.classes} biases but holds ${head.weight.length} and ${head.bias.length}`);
  }
  for (const [name, v] of [['weight', head.weight], ['bias', head.bias]] as const) {
    const i = v.findIndex((x) => !Number.isFinite(x));
    if (i >= 0) throw new TrainingError(`${what}: ${name}[${i}] is ${v[i]}; a head must be finite (lower the learning rate if training diverged)`);
  }
}
