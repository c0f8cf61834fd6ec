// The linear head of a checkpoint: logits = embedding · weightᵀ + bias, with the embedding
// L2-normalised by the graph and the logit scale folded into `weight` (tools/models.py
// ImageClassifier; the ONNX export is Gemm(embedding, head.weight, head.bias, transB=1)). Read from
// the zero-shot model to start a linear probe, and written back into the same bytes afterwards.
import { parseModel, serializeModel, tensorValues, describeTensor, toInt, type OnnxModel } from '../onnx/model';
import type { GraphProto } from '../onnx/proto';
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
    throw new TrainingError(
      `the model has no initializer '${name}', so its linear head cannot be found (its initializers: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}); name the head's tensors in the options`,
    );
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
    throw new TrainingError(
      `the head is '${names.weight}' [${w.shape.join(', ')}] and '${names.bias}' [${b.shape.join(', ')}]; a linear probe needs weight [classes, dim] and bias [classes]`,
    );
  }
  return { weight: w.values, bias: b.values, classes: w.shape[0]!, dim: w.shape[1]! };
}

export interface WriteHeadOptions {
  names?: HeadNames;
  /**
   * Allow a head for another number of classes (a folder with its own classes): the head's tensors
   * take the new shape and the declared class dimension of the logits follows. Write the zero-shot
   * head for the same classes into the zero-shot model too, or the pair no longer matches.
   */
  resize?: boolean;
}

/**
 * The model's bytes with `head` in place of its head: the same graph, every other initializer as it
 * was, and the head in the file's dtype (fp16 stays fp16). A head for another number of classes is
 * refused unless `resize` is set; its dimension must always be the model's.
 */
export function writeHead(modelBytes: Uint8Array, head: LinearHead, opts: WriteHeadOptions = {}): Uint8Array {
  const names = opts.names ?? DEFAULT_HEAD;
  const m = parseModel(modelBytes, 'model');
  const old = readHead(m, names);
  checkHead(head, 'the trained head');
  if (old.dim !== head.dim || (old.classes !== head.classes && !opts.resize)) {
    const fix =
      old.dim !== head.dim
        ? 'train the head on features of this model'
        : "train the head from this model's own head, or write it with { resize: true } (and the zero-shot head for the same classes into the zero-shot model)";
    throw new TrainingError(
      `the trained head is [${head.classes}, ${head.dim}] but the model's '${names.weight}' is [${old.classes}, ${old.dim}]: ${fix}`,
    );
  }
  const values = new Map([
    [names.weight, head.weight],
    [names.bias, head.bias],
  ]);
  if (old.classes === head.classes) return serializeModel(replaceInitializers(m, values));
  const shapes = new Map([
    [names.weight, [head.classes, head.dim]],
    [names.bias, [head.classes]],
  ]);
  const proto = replaceInitializers(m, values, shapes);
  declareClasses(proto.graph!, [names.weight, names.bias], old.classes, head.classes);
  return serializeModel(proto);
}

// Ops through which the logits keep their class dimension (a logit scale, a bias, a dtype cast).
const ELEMENTWISE = new Set(['Cast', 'Identity', 'Mul', 'Add', 'Sub', 'Div']);

/**
 * The declared shapes of what the head produces, class dimension `from` → `to`: the outputs of the
 * node that takes the head (through a Cast where the head is stored as fp16), and of the
 * elementwise nodes after it, up to the graph's outputs. Declared shapes only: ORT checks a graph
 * output's declared dims against what it computes.
 */
function declareClasses(g: GraphProto, head: readonly string[], from: number, to: number): void {
  const reached = new Set<string>(head);
  for (const n of g.node) {
    if (n.op_type === 'Cast' && n.input.some((i) => reached.has(i))) n.output.forEach((o) => reached.add(o));
  }
  const frontier = new Set<string>();
  for (const n of g.node) if (n.op_type !== 'Cast' && n.input.some((i) => reached.has(i))) n.output.forEach((o) => frontier.add(o));
  // Nodes are in topological order (onnx.proto requires it), so one pass follows the chain.
  for (const n of g.node) if (ELEMENTWISE.has(n.op_type) && n.input.some((i) => frontier.has(i))) n.output.forEach((o) => frontier.add(o));
  for (const v of [...g.output, ...g.value_info]) {
    if (!frontier.has(v.name)) continue;
    const dims = v.type?.tensor_type?.shape?.dim;
    const last = dims?.at(-1);
    if (last && last.dim_value !== undefined && last.dim_value !== null && toInt(last.dim_value, `a dimension of '${v.name}'`) === from)
      last.dim_value = to;
  }
}

/** Sizes agree and every value is finite: a NaN written into a checkpoint would only show up as a blank frontier. */
export function checkHead(head: LinearHead, what: string): void {
  if (!(head.classes >= 2 && head.dim >= 1 && Number.isInteger(head.classes) && Number.isInteger(head.dim))) {
    throw new TrainingError(`${what} has ${head.classes} classes of dimension ${head.dim}; it needs at least 2 classes and 1 dimension`);
  }
  if (head.weight.length !== head.classes * head.dim || head.bias.length !== head.classes) {
    throw new TrainingError(
      `${what} should hold ${head.classes}×${head.dim} weights and ${head.classes} biases but holds ${head.weight.length} and ${head.bias.length}`,
    );
  }
  for (const [name, v] of [
    ['weight', head.weight],
    ['bias', head.bias],
  ] as const) {
    const i = v.findIndex((x) => !Number.isFinite(x));
    if (i >= 0)
      throw new TrainingError(`${what}: ${name}[${i}] is ${v[i]}; a head must be finite (lower the learning rate if training diverged)`);
  }
}
