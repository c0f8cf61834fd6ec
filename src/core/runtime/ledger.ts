/** What the leak tests count: ORT sessions of each kind and the blender's GPU buffers. */
export type ResourceKind = 'blend-session' | 'text-session' | 'gpu-buffer';

/**
 * Counts live resources by kind. Handed to the engine, the text tower and the GPU blender by
 * whoever creates them, so a test counts its own resources and production classes keep no
 * global counters.
 */
export class ResourceLedger {
  private readonly live = new Map<ResourceKind, number>();

  acquire(kind: ResourceKind, n = 1): void {
    this.live.set(kind, this.count(kind) + n);
  }

  release(kind: ResourceKind, n = 1): void {
    this.live.set(kind, this.count(kind) - n);
  }

  count(kind: ResourceKind): number {
    return this.live.get(kind) ?? 0;
  }
}
