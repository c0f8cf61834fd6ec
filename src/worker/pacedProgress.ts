// A download reports progress at every read of its body (a few hundred KiB each: thousands for a
// CLIP pair), and each report crosses to the page (a comlink call, a store update, a render). A
// memory-infra dump of a cold CLIP load at 600 MiB downloaded (bench/appMemoryTimeline.ts) found
// ~60 MiB of the page's garbage from them, and they slowed the download; the bar needs no more
// than a few reports a second.
import type { LoadProgress } from '../core/bundle/source';

/** Reports a second: a bar that moves smoothly without a report per read. */
export const PROGRESS_INTERVAL_MS = 100;

export interface PacedProgress {
  (p: LoadProgress): void;
  /**
   * Sends the report still waiting, if any, now: called before the pair's load returns, because the
   * page takes a report that comes after it for the eval images read later (engineSession.ts).
   */
  flush(): void;
}

/**
 * `report`, called at most once per `intervalMs` within one file: a report that comes sooner waits,
 * replaced by any newer one of the same file, and is sent when the interval is up. What the bar
 * must show exactly goes at once: a file's first and last report (the one waiting before it
 * first), and a stream's end (`ended`, in place of any report waiting).
 */
export function pacedProgress(
  report: (p: LoadProgress) => void,
  intervalMs = PROGRESS_INTERVAL_MS,
  now: () => number = () => performance.now(),
): PacedProgress {
  let sentAt = -Infinity;
  let file: string | null = null;
  let waiting: LoadProgress | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const send = (p: LoadProgress) => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    waiting = null;
    sentAt = now();
    file = p.file;
    report(p);
  };
  const flush = () => waiting && send(waiting);
  const paced = (p: LoadProgress) => {
    if (p.ended) return send(p);
    if (p.file !== file) flush();
    const whole = p.total !== null && p.loaded >= p.total;
    if (p.file !== file || whole || now() - sentAt >= intervalMs) return send(p);
    waiting = p;
    timer ??= setTimeout(flush, Math.max(0, sentAt + intervalMs - now()));
  };
  return Object.assign(paced, { flush: () => void flush() });
}
