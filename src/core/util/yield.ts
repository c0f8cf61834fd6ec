/**
 * Lets queued messages (a cancel, a newer job) run between chunks of work. A MessageChannel round
 * trip, not setTimeout(0): browsers clamp nested timeouts to ~4 ms, which measured 223 ms per 60
 * yields in a Worker against 0.9 ms this way (bench/analysis.md, throughput) — up to a tenth of an
 * evaluation's time. Available in the page, Workers and Node alike.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      // Closed at once: an open port would keep Node's event loop alive.
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}
