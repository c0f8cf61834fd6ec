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
  /** Runs the labels' zero-shot head; with words the tokenizer does not know, only warns unless `confirmed`. */
  setCustomLabels(labels: string[] | null, confirmed?: boolean): Promise<void>;
  dispose(): void;
}

class Uploads implements UploadsController {
  private lastId = 0;
  private latestRefresh = 0;
  private latestTrajectory = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly engine: EngineApi,
    private readonly store: Store,
  ) {}

  async add(all: Blob[]): Promise<void> {
    const files = all.slice(0, MAX_UPLOADS);
    const fresh = files.map((f): Upload => ({
      id: ++this.lastId,
      name: (f as File).name || 'pasted image',
      thumbnail: null,
      rgb: null,
      status: 'decoding',
      error: null,
      trajectory: null,
      current: null,
      labels: [],
      resultsKey: null,
    }));
    const removed = Math.max(0, this.store.getState().uploads.length + fresh.length - MAX_UPLOADS);
    this.store.setState((s) => ({ uploads: [...fresh, ...s.uploads].slice(0, MAX_UPLOADS) }));
    sayWhatWasKept(this.store, all.length, files.length, removed);
    // Images dropped while the first pair is still loading wait for it (they are decoded at its size).
    await whenPairLoaded(this.store);
    await Promise.all(files.map((file, i) => this.decode(file, fresh[i]!.id)));
    await this.refresh();
  }

  remove(id: number): void {
    this.store.setState((s) => ({ uploads: s.uploads.filter((u) => u.id !== id) }));
  }

  async refresh(alphaOnly = false): Promise<void> {
    const s = this.store.getState();
    const ready = s.uploads.filter((u) => u.status === 'ready' && u.rgb);
    if (!s.pair || ready.length === 0) return;
    const id = ++this.latestRefresh;
    try {
      const needTrajectory = alphaOnly ? [] : ready.filter((u) => !u.trajectory || u.resultsKey !== s.pair!.resultsKey);
      if (needTrajectory.length > 0 && !(await this.trajectories(++this.latestTrajectory, needTrajectory))) return;
      const r = await this.engine.classify(
        ready.map((u) => u.rgb!),
        [s.alpha],
      );
      const now = this.store.getState();
      if (id !== this.latestRefresh || now.alpha !== s.alpha || now.pair?.resultsKey !== r.resultsKey) return;
      ready.forEach((u, i) => this.patch(u.id, { current: r.predictions[i]![0]!, labels: r.labels }));
    } catch (err) {
      say('error', `Classification failed: ${errorMessage(err)}`, this.store);
    }
  }

  refreshSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(true), UPLOADS_DEBOUNCE_MS);
  }

  async setCustomLabels(labels: string[] | null, confirmed = false): Promise<void> {
    try {
      // Warn before running: a word the tokenizer does not know becomes [UNK], and labels that
      // differ only in such words get the same head row.
      const unknown = labels && !confirmed ? await this.engine.unknownWords(labels) : [];
      if (labels && unknown.length > 0) return this.store.setState({ labelWarning: { labels, unknown }, labelError: null });
      await this.engine.setCustomLabels(labels);
      this.store.setState((s) => ({
        customLabels: labels,
        labelError: null,
        labelWarning: null,
        uploads: s.uploads.map((u) => ({ ...u, trajectory: null })),
      }));
      await this.refresh();
    } catch (e) {
      this.store.setState({ labelError: errorMessage(e) });
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.latestRefresh++;
    this.latestTrajectory++;
  }

  /**
   * False when a newer trajectory request or another pair took over meanwhile. Not superseded by a
   * refresh for a new α: a trajectory does not depend on α, and an α-only refresh does not compute
   * one, so dropping it then (a slider moved while the image was classified) left it unset for good.
   */
  private async trajectories(id: number, uploads: Upload[]): Promise<boolean> {
    const r = await this.engine.classify(
      uploads.map((u) => u.rgb!),
      TRAJECTORY,
    );
    if (id !== this.latestTrajectory || this.store.getState().pair?.resultsKey !== r.resultsKey) return false;
    uploads.forEach((u, i) => this.patch(u.id, { trajectory: r.predictions[i]!, labels: r.labels, resultsKey: r.resultsKey }));
    return true;
  }

  private async decode(file: Blob, id: number): Promise<void> {
    try {
      const decoded = await this.engine.decode(file, (file as File).name || 'pasted image');
      this.patch(id, {
        rgb: decoded.rgb,
        thumbnail: rgbToDataUrl(decoded.rgb, this.store.getState().pair?.inputSize ?? 0),
        status: 'ready',
      });
    } catch (err) {
      this.patch(id, { status: 'error', error: errorMessage(err) });
    }
  }

  private patch(id: number, p: Partial<Upload>): void {
    this.store.setState((s) => ({ uploads: s.uploads.map((u) => (u.id === id ? { ...u, ...p } : u)) }));
  }
}

export function createUploads(engine: EngineApi, store: Store): UploadsController {
  return new Uploads(engine, store);
}

function sayWhatWasKept(store: Store, asked: number, kept: number, removed: number): void {
  if (asked > kept) {
    say(
      'info',
      `Kept ${kept} of the ${asked.toLocaleString('en')} images you added (this page shows at most ${MAX_UPLOADS} at a time); the other ${(asked - kept).toLocaleString('en')} were not decoded.${removed > 0 ? ` The ${removed} earlier image${removed === 1 ? ' was' : 's were'} removed to make room.` : ''}`,
      store,
    );
  } else if (removed > 0) {
    say(
      'info',
      `Removed the ${removed} oldest image${removed === 1 ? '' : 's'} to make room: this page shows at most ${MAX_UPLOADS} at a time.`,
      store,
    );
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
