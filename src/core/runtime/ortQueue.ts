/** A mutex: ORT sessions must not run concurrently, and a blend must not race a run. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/**
 * One queue for every call into onnxruntime, across all sessions: the web build's wasm (asyncify)
 * cannot take a second call while one is suspended — creating the next pair's session during the
 * current pair's run failed with "memory access out of bounds" on WebGPU.
 */
export const ortQueue = new Serial();
