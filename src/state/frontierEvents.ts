// An evaluation's chunk events arrive once per chunk, faster than a chart can redraw on a small
// model: they are applied at most once every FLUSH_MS (the first at once, the rest queued and
// applied together), so the page stays smooth while the engine evaluates.
import type { EvaluationEvent, FrontierPoints, SetAccuracy } from '../worker/protocol';
import type { Store } from './store';

export const FLUSH_MS = 80;

type ChunkEvent = Extract<EvaluationEvent, { kind: 'chunk' }>;

export interface FrontierBuffer {
  push(e: ChunkEvent): void;
  /** Applies what is queued now. */
  flush(): void;
  /** Drops what is queued and stops the timer. */
  dispose(): void;
}

const imagesSeen = (p: Record<string, SetAccuracy> | undefined) => Object.values(p ?? {}).reduce((n, a) => n + a.n, 0);

/**
 * The points after `events`: each replaces its α's point unless that point has seen more images.
 * Counts only grow under one results key, so an event that comes late never undoes a fuller point.
 */
export function mergeChunkEvents(points: FrontierPoints, events: readonly ChunkEvent[]): FrontierPoints {
  const out = { ...points };
  for (const e of events) if (imagesSeen(e.point) >= imagesSeen(out[String(e.alpha)])) out[String(e.alpha)] = e.point;
  return out;
}

/** `points` with each α of `newer` taken from it, unless `points` has seen more images there (the same rule). */
export function mergeFuller(points: FrontierPoints, newer: FrontierPoints): FrontierPoints {
  const out = { ...points };
  for (const [alpha, point] of Object.entries(newer)) if (imagesSeen(point) >= imagesSeen(out[alpha])) out[alpha] = point;
  return out;
}

/**
 * `onApplied` runs after each batch is applied (the evaluation measures its rate there). An event
 * after a quiet FLUSH_MS is applied at once (a new α's first estimate should not wait for a
 * timer); the ones that follow within FLUSH_MS wait and go together, so redraws stay ≤ 1 per FLUSH_MS.
 */
export function createFrontierBuffer(store: Store, onApplied: () => void = () => {}): FrontierBuffer {
  return new ChunkBuffer(store, onApplied);
}

class ChunkBuffer implements FrontierBuffer {
  private pending: ChunkEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly store: Store,
    private readonly onApplied: () => void,
  ) {}

  push(e: ChunkEvent): void {
    this.pending.push(e);
    if (this.timer) return;
    this.apply();
    this.coolDown();
  }

  flush(): void {
    this.stop();
    this.apply();
  }

  dispose(): void {
    this.stop();
    this.pending = [];
  }

  private stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private apply(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.store.setState((s) => {
      // Every event names its results key: anything for another pair or eval sets is dropped.
      const mine = batch.filter((e) => e.resultsKey === s.pair?.resultsKey);
      if (mine.length === 0) return {};
      return { resultsKey: mine[0]!.resultsKey, points: mergeChunkEvents(s.points, mine), progress: mine[mine.length - 1]!.progress };
    });
    this.onApplied();
  }

  /** After an apply, FLUSH_MS of quiet; what came in meanwhile is applied when it ends (and starts another). */
  private coolDown(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.pending.length === 0) return;
      this.apply();
      this.coolDown();
    }, FLUSH_MS);
  }
}
