// Says, once per (α, set) and results key, where a complete live point disagrees with the member's
// recorded sweep (state/sweepCheck.ts). The chart marks the points from the same derivation.
import { say, type Store } from '../store';
import { disagreementKey, disagreementText, sweepDisagreements } from '../sweepCheck';

export interface SweepCheckController {
  dispose(): void;
}

export function createSweepCheck(store: Store): SweepCheckController {
  let told = new Set<string>();
  let toldFor: string | null = null;
  const unsubscribe = store.subscribe((s, prev) => {
    if (s.points === prev.points && s.pair === prev.pair) return;
    const key = s.pair?.resultsKey ?? null;
    if (key !== toldFor) [told, toldFor] = [new Set(), key];
    const fresh = sweepDisagreements(s.pair, s.points).filter((d) => !told.has(disagreementKey(d)));
    if (fresh.length === 0) return;
    for (const d of fresh) told.add(disagreementKey(d));
    say('error', disagreementText(fresh), store);
  });
  return { dispose: unsubscribe };
}
