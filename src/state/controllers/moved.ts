// "What fine-tuning moved": asks the engine for the report when the panel opens, and again for a
// new pair (or member) while it is open. A request is told apart by its id: a report that comes
// back after the pair changed, or after a newer request, is dropped.
import type { EngineApi } from '../../worker/protocol';
import { errorMessage } from '../../worker/protocol';
import type { Store } from '../store';
import { sameSortKey, type MovedSortKey } from '../../core/moved/table';

export interface MovedController {
  toggleMoved(): void;
  /** Sorts by `key`; the column sorted already flips its direction. Numbers sort largest first. */
  sortMoved(key: MovedSortKey): void;
  /** Shows the histogram of one tensor's change (null hides it). */
  selectMovedTensor(name: string | null): void;
  dispose(): void;
}

/**
 * Keeps the report of the pair shown while the panel is open: asks on opening and when the pair
 * changes. Returns what stops it (a request in flight is then ignored).
 */
function followPair(engine: EngineApi, store: Store): () => void {
  let request = 0;
  const fetchFor = (bundleHash: string) => {
    const id = ++request;
    store.setState({ moved: { status: 'computing', bundleHash } });
    const current = () => id === request && store.getState().pair?.bundleHash === bundleHash;
    engine.moved().then(
      (report) => {
        if (current() && report.bundleHash === bundleHash) store.setState({ moved: { status: 'ready', report } });
      },
      (e: unknown) => {
        if (current()) store.setState({ moved: { status: 'failed', bundleHash, error: errorMessage(e) } });
      },
    );
  };
  const follow = () => {
    const { movedOpen, pair, moved } = store.getState();
    if (!movedOpen || !pair) return;
    const has = moved.status === 'ready' ? moved.report.bundleHash : moved.status === 'none' ? null : moved.bundleHash;
    if (has !== pair.bundleHash) fetchFor(pair.bundleHash);
  };
  const unsubscribe = store.subscribe((s, prev) => {
    if (s.pair !== prev.pair || s.movedOpen !== prev.movedOpen) follow();
  });
  return () => {
    unsubscribe();
    request++;
  };
}

export function createMoved(engine: EngineApi, store: Store): MovedController {
  const stop = followPair(engine, store);
  return {
    // Reopening after a failure (another member's file unreadable) asks again.
    toggleMoved: () =>
      store.setState((s) => ({ movedOpen: !s.movedOpen, ...(s.moved.status === 'failed' ? { moved: { status: 'none' } } : {}) })),
    sortMoved(key) {
      const { movedSort } = store.getState();
      const textual = key === 'order' || key === 'name' || key === 'group';
      const descending = sameSortKey(movedSort.key, key) ? !movedSort.descending : !textual;
      store.setState({ movedSort: { key, descending } });
    },
    selectMovedTensor: (name) => store.setState({ movedTensor: name }),
    dispose: stop,
  };
}
