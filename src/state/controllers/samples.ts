// The eval images the lesson shows: every image's class (asked once per results key) and the
// thumbnails the views ask for. Both are kept under the results key they came with; an answer for
// another key (a new pair, member or eval sets meanwhile) is dropped.
import { errorMessage, type EngineApi, type EvalThumbnails, type ResultsKey } from '../../worker/protocol';
import { record } from '../../core/eval/ids';
import { say, thumbnailKey, type Store } from '../store';
import { rgbaToDataUrl } from '../dom';

/** Thumbnails per engine call (EngineApi.evalImages takes at most 64). */
const PER_CALL = 64;

export interface SamplesController {
  /** Fetches the thumbnails of these images of a set that the store lacks (each once). */
  requestThumbnails(setId: string, indices: readonly number[]): void;
  /** The set the lesson shows (null: follow the chart's shift). */
  setLessonSet(id: string | null): void;
  dispose(): void;
}

class Samples implements SamplesController {
  private key: ResultsKey | null = null;
  /** Thumbnails asked for under `key` and not answered yet. */
  private pending = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly engine: EngineApi,
    private readonly store: Store,
    private readonly toUrl: (rgba: Uint8Array, size: number) => string | null,
  ) {
    this.unsubscribe = store.subscribe((s) => this.follow(s.pair?.resultsKey ?? null));
    this.follow(store.getState().pair?.resultsKey ?? null);
  }

  /** A new results key: its labels are fetched, and the old key's thumbnails dropped. */
  private follow(key: ResultsKey | null): void {
    if (key === this.key) return;
    this.key = key;
    this.pending = new Set();
    this.store.setState({ thumbnails: record<string>(), thumbnailsKey: key });
    if (key) void this.fetchLabels(key);
  }

  private async fetchLabels(key: ResultsKey): Promise<void> {
    try {
      const labels = await this.engine.evalLabels();
      if (labels.resultsKey === key && this.key === key) this.store.setState({ evalLabels: labels });
    } catch (e) {
      if (this.key === key) say('error', `Could not read the eval sets' labels: ${errorMessage(e)}`, this.store);
    }
  }

  requestThumbnails(setId: string, indices: readonly number[]): void {
    const key = this.key;
    if (!key) return;
    const have = this.store.getState().thumbnails;
    const wanted = indices.filter((i) => {
      const k = thumbnailKey(setId, i);
      return !Object.prototype.hasOwnProperty.call(have, k) && !this.pending.has(k);
    });
    for (const i of wanted) this.pending.add(thumbnailKey(setId, i));
    for (let start = 0; start < wanted.length; start += PER_CALL) void this.fetch(key, setId, wanted.slice(start, start + PER_CALL));
  }

  private async fetch(key: ResultsKey, setId: string, indices: number[]): Promise<void> {
    try {
      this.keep(key, await this.engine.evalImages(setId, indices));
    } catch (e) {
      if (this.key === key) say('error', `Could not show images of '${setId}': ${errorMessage(e)}`, this.store);
    }
  }

  private keep(key: ResultsKey, r: EvalThumbnails): void {
    if (this.key !== key || r.resultsKey !== key) return;
    const urls = r.images.map((t) => [thumbnailKey(r.setId, t.index), this.toUrl(t.rgba, r.size)] as const);
    for (const [k] of urls) this.pending.delete(k);
    this.store.setState((s) => {
      const thumbnails = Object.assign(record<string>(), s.thumbnails);
      for (const [k, url] of urls) if (url) thumbnails[k] = url;
      return { thumbnails };
    });
  }

  setLessonSet(id: string | null): void {
    this.store.setState({ lessonSet: id });
  }

  dispose(): void {
    this.unsubscribe();
  }
}

export function createSamples(engine: EngineApi, store: Store, toUrl = rgbaToDataUrl): SamplesController {
  return new Samples(engine, store, toUrl);
}
