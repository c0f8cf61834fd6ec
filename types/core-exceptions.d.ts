// Exceptions to the per-target type checks, each naming the code that needs it. Remove an entry
// once that code no longer needs it.

// src/core/runtime/ort-web.ts casts `globalThis.navigator` to the DOM's `Navigator` to read
// `hardwareConcurrency`. The Worker's lib has `WorkerNavigator` instead (with the same property);
// @webgpu/types declares a `Navigator` that carries only `gpu`. Until ort-web.ts reads
// `WorkerNavigator` (or a structural type), the Worker target gets the one property it reads.
interface Navigator {
  readonly hardwareConcurrency: number;
}
