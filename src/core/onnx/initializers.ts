import { OnnxError, describeTensor, withValues, type OnnxModel } from './model';
import { floatsToHalves } from './half';
import type { ModelProto } from './proto';

/**
 * The model with some float initializers given new values, everything else as it was: same graph,
 * same names, same shapes, same order, and each tensor in its stored dtype (an fp16 file stays
 * fp16: the values are rounded to binary16 here, as the checkpoint's other weights were). Used to
 * write a trained head back into the checkpoint it came from. exportOnnx's bakeInitializers adds
 * lifted tensors back; this replaces tensors that never left. `shapes` gives a tensor a new shape
 * (a head for other classes); the graph's declared shapes downstream are the caller's to fix.
 */
export function replaceInitializers(
  model: OnnxModel,
  values: ReadonlyMap<string, Float32Array>,
  shapes: ReadonlyMap<string, readonly number[]> = new Map(),
): ModelProto {
  const g = model.graph;
  const seen = new Set<string>();
  const initializer = g.initializer.map((t) => {
    const v = values.get(t.name);
    if (!v) return t;
    seen.add(t.name);
    const shape = shapes.get(t.name);
    if (shape && !shape.every((d) => Number.isInteger(d) && d >= 1))
      throw new OnnxError(`initializer '${t.name}': the new shape [${shape.join(', ')}] is not a shape`);
    const target = shape ? { ...t, dims: [...shape] } : t;
    const info = describeTensor(target);
    const count = info.shape.reduce((a, b) => a * b, 1);
    if (v.length !== count)
      throw new OnnxError(
        `initializer '${t.name}' is ${info.dtype}[${info.shape.join(', ')}] (${count} values), but ${v.length} values were given for it`,
      );
    if (info.dtype === 'float32') return withValues(target, v);
    if (info.dtype === 'float16') return withValues(target, floatsToHalves(v));
    throw new OnnxError(`initializer '${t.name}' is ${info.dtype}; only float32 and float16 weights can be replaced`);
  });
  const missing = [...values.keys()].filter((n) => !seen.has(n));
  if (missing.length > 0)
    throw new OnnxError(
      `the model has no initializer ${missing.map((n) => `'${n}'`).join(', ')} (its initializers: ${g.initializer
        .slice(0, 8)
        .map((t) => t.name)
        .join(', ')}${g.initializer.length > 8 ? ', …' : ''})`,
    );
  return { ...model.proto, graph: { ...g, initializer } };
}
