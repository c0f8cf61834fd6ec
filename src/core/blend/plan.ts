import type { InitializerInfo, OnnxModel } from '../onnx/model';
import type { ModelProto } from '../onnx/proto';
import { liftInitializers, feedName } from '../onnx/pair';
import { extractWeightPairs, extractWeightMembers, type WeightPair, type WeightTensor } from './weights';
import { wasmArena, type WasmArena } from './arena';

/** The graph input the images go to: the one named, or the first that is not a weight. */
export function findImageInput(model: OnnxModel, name?: string): { inputName: string; inputDims: (number | string)[] } {
  const initNames = new Set(model.graph.initializer.map((t) => t.name));
  const inputName = name ?? model.graph.input.find((v) => !initNames.has(v.name))?.name;
  const inputInfo = model.graph.input.find((v) => v.name === inputName);
  if (!inputName || !inputInfo) throw new Error(`the model has no image input${name ? ` named '${name}'` : ''}`);
  const inputDims = inputInfo.type?.tensor_type?.shape?.dim.map((d) => d.dim_param || Number(d.dim_value ?? 0)) ?? [];
  return { inputName, inputDims };
}

export interface WeightPlan<T extends WeightTensor = WeightPair> {
  /** θ0 and θ1 (or every member's θₖ) of each differing tensor, for the blender. */
  pairs: T[];
  /** The wasm memory the pairs were extracted into (CPU with SIMD), else null. */
  arena: WasmArena | null;
  /** The graph the session runs: differing weights lifted to inputs (fp16 ones widened where fed as f32). */
  sessionModel: ModelProto;
  /** The graph exports bake θ(α) into: lifted, never widened, so an fp16 pair exports as fp16. */
  skeleton: ModelProto;
  /** The session's input name for each blended weight. */
  feedNames: Map<string, string>;
}

/**
 * Where each differing weight goes: out of the files into the blender's memory (on the CPU with
 * SIMD, straight into the kernel's wasm memory: one copy each), and which graph the session runs.
 * `keepHalf`: fp16 weights stay fp16 (a GPU with shader-f16); else they are widened to f32.
 */
export function planWeights(
  zs: OnnxModel,
  ft: OnnxModel,
  differing: readonly InitializerInfo[],
  opts: { keepHalf: boolean; cpuArena: boolean },
): WeightPlan {
  const names = differing.map((d) => d.name);
  const arena = opts.cpuArena ? wasmArena(differing.map((d) => ({ name: d.name, count: elements(d) }))) : null;
  return graphsFor(zs, extractWeightPairs(zs, ft, names, opts.keepHalf, arena?.alloc), arena);
}

/** planWeights for K members, zero-shot first: the zero-shot graph serves them all. */
export function planMemberWeights(
  models: readonly OnnxModel[],
  differing: readonly InitializerInfo[],
  opts: { keepHalf: boolean; cpuArena: boolean; arena?: WasmArena | null },
): WeightPlan<WeightTensor> {
  // A streamed load (blend/streamLoad.ts) brings the arena its weights were read into.
  const arena = opts.arena
    ? opts.arena
    : opts.cpuArena
      ? wasmArena(
          differing.map((d) => ({ name: d.name, count: elements(d) })),
          models.length,
        )
      : null;
  return graphsFor(
    models[0]!,
    extractWeightMembers(
      models,
      differing.map((d) => d.name),
      opts.keepHalf,
      arena?.alloc,
    ),
    arena,
  );
}

const elements = (d: InitializerInfo) => d.shape.reduce((a, b) => a * b, 1);

function graphsFor<T extends WeightTensor>(zs: OnnxModel, pairs: T[], arena: WasmArena | null): WeightPlan<T> {
  const widen = new Set(pairs.filter((p) => p.dtype === 'float16' && p.feedDtype === 'float32').map((p) => p.name));
  const weightNames = new Set(pairs.map((p) => p.name));
  const sessionModel = liftInitializers(zs, weightNames, widen);
  const skeleton = widen.size > 0 ? liftInitializers(zs, weightNames) : sessionModel;
  const feedNames = new Map(pairs.map((p) => [p.name, feedName(sessionModel, p.name)]));
  return { pairs, arena, sessionModel, skeleton, feedNames };
}
