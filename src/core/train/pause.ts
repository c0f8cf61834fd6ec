// Pause and resume for a training job. The trainers await their progress callback between steps
// (an epoch for the probe, a feature batch, an end-to-end step); the job answers it with
// `gate.passed(signal)`, which holds the trainer there while paused. A paused trainer waits on a
// promise, not a loop: it takes no CPU, and the Worker serves the slider's evaluation meanwhile.

export class PauseGate {
  private release: (() => void) | null = null;
  private closed: Promise<void> | null = null;

  get paused(): boolean {
    return this.closed !== null;
  }

  pause(): void {
    this.closed ??= new Promise<void>((resolve) => (this.release = resolve));
  }

  resume(): void {
    this.release?.();
    this.release = null;
    this.closed = null;
  }

  /**
   * Resolves at once while not paused (a resolved promise: the trainer goes on in the same turn),
   * else on resume; rejects with `signal`'s reason when it aborts first, so a paused job can be cancelled.
   */
  passed(signal?: AbortSignal): Promise<void> {
    const closed = this.closed;
    if (!closed) return Promise.resolve();
    if (!signal) return closed;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      void closed.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}
