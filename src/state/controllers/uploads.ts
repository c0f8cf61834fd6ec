// The user's images: decoded and classified by the engine, never sent anywhere. Each refresh is a
// job with an id (as evaluations are): a newer one makes an older one's answers stale.
import { errorMessage, type EngineApi } from '../../worker/protocol';
import { say, type Store, type Upload } from '../store';
import { rgbToDataUrl } from '../dom';

/** Images shown at once: each has its own trajectory chart, and every α change classifies them all. */
export const MAX_UPLOADS = 24;
/** The α of a trajectory: 21 steps, finer than the frontier's grid. */
const TRAJECTORY = Array.from({ length: 21 }, (_, i) => i / 20);
/** After an α change, classify at the new α once the slider rests this long. */
export const UPLOADS_DEBOUNCE_MS = 60;

export interface UploadsController {
  add(files: Blob[]): Promise<void>;
  remove(id: number): void;
  /** Top classes at the current α for every upload, and the α trajectory for new ones. */
  refresh(alphaOnly?: boolean): Promise<void>;
  /** refresh(true) after UPLOADS_DEBOUNCE_MS, restarting the wait. */
  refreshSoon(): void;
  setCustomLabels(labels: string[] | null): Promise<void>;
  dispose(): void;
}

export function createUploads(engine: EngineApi, store: Store): UploadsController {
  let lastId = 0;
  let latestRefresh = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const patch = (id: number, p: Partial<Upload>) => store.setState((s) => ({ uploads: s.uploads.map((u) => (u.id === id ? { ...u, ...p } : u)) }));

  const decodeOne = async (file: Blob, id: number) => {
    try {
      const name = (file as File).name || 'pasted image';
      const decoded = await engine.decode(file, name);
      patch(id, { rgb: decoded.rgb, thumbnail: rgbToDataUrl(decoded.rgb, store.getState().pair?.inputSize ?? 0), status: 'ready' });
    } catch (err) {
      patch(id, { status: 'error', error: errorMessage(err) });
    }
  };

  const refresh = async (alphaOnly = false) => {
    const s = store.getState();
    if (!s.pair) return;
    const ready = s.uploads.filter((u) => u.status === 'ready' && u.rgb);
    if (ready.length === 0) return;
    const id = ++latestRefresh;
    const alpha = s.alpha;
    try {
      const needTrajectory = alphaOnly ? [] : ready.filter((u) => !u.trajectory || u.resultsKey !== s.pair!.resultsKey);
      if (needTrajectory.length > 0) {
        const r = await engine.classify(needTrajectory.map((u) => u.rgb!), TRAJECTORY);
        if (id !== latestRefresh) return;
        needTrajectory.forEach((u, i) => patch(u.id, { trajectory: r.predictions[i]!, labels: r.labels, resultsKey: r.resultsKey }));
      }
      const r = await engine.classify(ready.map((u) => u.rgb!), [alpha]);
      const now = store.getState();
      if (id !== latestRefresh || now.alpha !== alpha || now.pair?.resultsKey !== r.resultsKey) return;
      ready.forEach((u, i) => patch(u.id, { current: r.predictions[i]![0]!, labels: r.labels }));
    } catch (err) {
      say('error', `Classification failed: ${errorMessage(err)}`, store);
    }
  };

  return {
    async add(all) {
      const files = all.slice(0, MAX_UPLOADS);
      const fresh = files.map((f): Upload => ({
        id: ++lastId, name: (f as File).name || 'pasted image', thumbnail: null, rgb: null, status: 'decoding', error: null, trajectory: null, current: null, labels: [], resultsKey: null,
      }));
      const removed = Math.max(0, store.getState().uploads.length + fresh.length - MAX_UPLOADS);
      store.setState((s) => ({ uploads: [...fresh, ...s.uploads].slice(0, MAX_UPLOADS) }));
      sayWhatWasKept(store, all.length, files.length, removed);
      // Images dropped while the first pair is still loading wait for it (they are decoded at its size).
      await whenPairLoaded(store);
      await Promise.all(files.map((file, i) => decodeOne(file, fresh[i]!.id)));
      await refresh();
    },
    remove(id) {
      store.setState((s) => ({ uploads: s.uploads.filter((u) => u.id !== id) }));
    },
    refresh,
    refreshSoon() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void refresh(true), UPLOADS_DEBOUNCE_MS);
    },
    async setCustomLabels(labels) {
      try {
        await engine.setCustomLabels(labels);
        store.setState((s) => ({ customLabels: labels, labelError: null, uploads: s.uploads.map((u) => ({ ...u, trajectory: null })) }));
        await refresh();
      } catch (e) {
        store.setState({ labelError: errorMessage(e) });
      }
    },
    dispose() {
      if (timer) clearTimeout(timer);
      timer = null;
      latestRefresh++;
    },
  };
}

function sayWhatWasKept(store: Store, asked: number, kept: number, removed: number): void {
  if (asked > kept) {
    say('info', `Kept ${kept} of the ${asked.toLocaleString('en')} images you added (this page shows at most ${MAX_UPLOADS} at a time); the other ${(asked - kept).toLocaleString('en')} were not decoded.${removed > 0 ? ` The ${removed} earlier image${removed === 1 ? ' was' : 's were'} removed to make room.` : ''}`, store);
  } else if (removed > 0) {
    say('info', `Removed the ${removed} oldest image${removed === 1 ? '' : 's'} to make room: this page shows at most ${MAX_UPLOADS} at a time.`, store);
  }
}

function whenPairLoaded(store: Store): Promise<void> {
  if (store.getState().pair) return Promise.resolve();
  return new Promise((resolve) => {
    const off = store.subscribe((st) => {
      if (st.pair) {
        off();
        resolve();
      }
    });
  });
}
