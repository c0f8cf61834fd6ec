// The training-runtime candidates of `--only-train-runtime`, apart from bench/trainRuntime.ts so that
// the Node side can list them without loading TensorFlow.js.
export const TRAIN_CANDIDATES = [
  'hand-written, wasm SIMD kernel',
  'hand-written, plain TypeScript',
  'TensorFlow.js 4.22 wasm',
  'TensorFlow.js 4.22 cpu',
] as const;
export type TrainCandidate = (typeof TRAIN_CANDIDATES)[number];
