// The engine's session as the page sees it: the backend, the pair and member loaded, the eval sets
// in use. A load that fails says why and keeps the previous pair, its results and α.
import {
  errorMessage,
  type EngineApi,
  type LoadedPairSummary,
  type LoadProgress,
  type PairRequest,
  type PathBlob,
  type RuntimeInfo,
} from '../../worker/protocol';
import { resetResults, say, type State, type Store } from '../store';
import { isolate, listSome } from '../thin';
import { downloadBlob } from '../dom';
import type { EvaluationController } from './evaluation';
import type { UploadsController } from './uploads';

export interface EngineSession {
  /** Starts the engine on the backend the link asks for; the runtime is in the store after. */
  init(): Promise<RuntimeInfo>;
  /**
   * Loads a pair with its default fine-tuned member, or `member` (a link's member=; an id the
   * bundle lacks opens the default with a note).
   */
  loadPair(req: PairRequest, label: string, member?: string | null): Promise<boolean>;
  /** Another fine-tuned member of the loaded bundle; α, the view and the uploads stay. */
  selectMember(id: string): Promise<boolean>;
  /** The Cancel next to the loading bar: the load in progress fails with "the load was cancelled". */
  cancelLoad(): void;
  /** The user's own eval sets: a dropped <set>/<class>/<image> folder or zip replaces the pair's sets. */
  loadEvalFolder(files: PathBlob[], reference?: string | null): Promise<boolean>;
  /** One dropped .zip: a bundle loads as the pair, anything else as eval sets. */
  loadZip(files: PathBlob[]): Promise<boolean>;
  exportBlended(): Promise<void>;
}

export interface SessionDeps {
  engine: EngineApi;
  store: Store;
  evaluation: EvaluationController;
  uploads: UploadsController;
  /** The page's address, to resolve a relative pair URL against (the Worker's would differ). */
  pageUrl: () => string;
  bundledPairUrl: () => string;
}

/** One sentence: the engine's messages often end without a full stop, and a note may follow. */
function sentence(e: unknown): string {
  const text = errorMessage(e).trim();
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

class Session implements EngineSession {
  private readonly engine: EngineApi;
  private readonly store: Store;
  /** Loads begun, so that a load's late reports (its eval images) are told from a newer load's. */
  private loads = 0;

  constructor(private readonly d: SessionDeps) {
    this.engine = d.engine;
    this.store = d.store;
  }

  async init(): Promise<RuntimeInfo> {
    const runtime = await this.engine.init(this.store.getState().backendChoice, (r) => this.onRuntime(r));
    this.store.setState({ runtime });
    if (runtime.note) say('info', runtime.note, this.store);
    return runtime;
  }

  async loadPair(req: PairRequest, label: string, member: string | null = null): Promise<boolean> {
    let r = req;
    if (r.kind === 'url') {
      // A relative ?pair= or typed path is relative to this page: the Worker would resolve it
      // against its own script's URL (…/assets/), a different folder.
      try {
        r = { kind: 'url', url: new URL(r.url, this.d.pageUrl()).href };
      } catch {
        this.store.setState({ pairError: `Could not load ${label}: '${r.url}' is not a URL.` });
        say(
          'error',
          `Could not load ${label}: '${r.url}' is not a URL.${this.store.getState().pair ? ' The previous pair is still loaded.' : ''}`,
          this.store,
        );
        return false;
      }
    }
    const pairUrl = r.kind === 'url' && r.url !== this.d.bundledPairUrl() ? r.url : null;
    return this.showLoad(label, (progress) => this.engine.loadPair(r, progress, member), { pairUrl }, 'The previous pair is still loaded.');
  }

  async selectMember(id: string): Promise<boolean> {
    const pair = this.store.getState().pair;
    if (!pair || id === pair.member) return false;
    const name = pair.members.find((m) => m.id === id)?.name ?? id;
    return this.showLoad(
      `the member '${name}'`,
      (progress) => this.engine.loadMember(id, progress),
      {},
      'The previous member is still loaded.',
    );
  }

  cancelLoad(): void {
    void this.engine.cancelLoad();
  }

  async loadEvalFolder(files: PathBlob[], reference: string | null = null): Promise<boolean> {
    try {
      const r = await this.withLoading('your eval images', (tick) =>
        this.engine.useEvalFolder(files, reference, (done, total) =>
          tick({ file: `image ${done} of ${total}`, loaded: done, total, bundleLoaded: 0, bundleTotal: null }),
        ),
      );
      this.store.setState({ pair: r.pair, loading: null, shift: 'mean', ...resetResults(r.pair.resultsKey) });
      const sets = r.pair.sets.map((x) => `${isolate(x.name)} (${x.count}${x.role === 'reference' ? ', reference' : ''})`);
      say(
        'info',
        `Using your eval sets: ${listSome(sets, 8, 200)}.${r.skipped.length ? ` Skipped ${r.skipped.length.toLocaleString('en')} file(s): ${listSome(r.skipped, 3, 240)}.` : ''}`,
        this.store,
      );
      this.d.evaluation.schedule(0);
      return true;
    } catch (e) {
      const message = errorMessage(e);
      this.store.setState({ loading: null, pairError: `Could not use those eval images: ${message}` });
      say('error', `Could not use those eval images: ${message}. The current eval sets are still in use.`, this.store);
      return false;
    }
  }

  async loadZip(files: PathBlob[]): Promise<boolean> {
    // An unreadable zip goes to the eval folder's reader, which says in words what is wrong with it.
    const bundle = await this.engine.zipHoldsBundle(files[0]!.blob).catch(() => false);
    return bundle ? this.loadPair({ kind: 'files', files }, 'the dropped pair') : this.loadEvalFolder(files);
  }

  async exportBlended(): Promise<void> {
    const s = this.store.getState();
    if (!s.pair) return;
    try {
      const bytes = await this.engine.exportOnnx(s.alpha);
      // With several members the file says which one α = 1 is.
      downloadBlob(
        new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
        `wiseft-alpha-${s.alpha.toFixed(2)}${s.pair.members.length > 1 ? `-${s.pair.member}` : ''}.onnx`,
      );
    } catch (e) {
      say('error', `Export failed: ${errorMessage(e)}`, this.store);
    }
  }

  /**
   * Shows the loading bar while `run` goes, with its progress and elapsed time. Reports that come
   * after `run` has returned are the pair's eval images, read after its first screen: they go to
   * the bar's second line until the last one, unless another load has begun since.
   */
  private withLoading<T>(label: string, run: (tick: (p: LoadProgress) => void) => Promise<T>): Promise<T> {
    const load = ++this.loads;
    let returned = false;
    this.store.setState({ loading: { label, progress: null, startedAt: performance.now() }, evalImagesLoading: null, pairError: null });
    const tick = (p: LoadProgress) => {
      if (returned) return this.evalImagesTick(load, p);
      this.store.setState((s) =>
        s.loading ? { loading: { ...s.loading, progress: { ...p, elapsedMs: performance.now() - s.loading.startedAt } } } : {},
      );
    };
    return run(tick).finally(() => (returned = true));
  }

  private evalImagesTick(load: number, p: LoadProgress): void {
    if (load !== this.loads) return;
    this.store.setState((s) => {
      if (p.ended) return { evalImagesLoading: null };
      const startedAt = s.evalImagesLoading?.startedAt ?? performance.now();
      return { evalImagesLoading: { startedAt, progress: { ...p, elapsedMs: performance.now() - startedAt } } };
    });
  }

  private async showLoad(
    label: string,
    call: (progress: (p: LoadProgress) => void) => Promise<LoadedPairSummary>,
    extra: Partial<State>,
    kept: string,
  ): Promise<boolean> {
    try {
      const loaded = await this.withLoading(label, call);
      // A saved complete frontier shows with the pair, in the same update: no moment without it.
      this.showPair(loaded, extra, await this.d.evaluation.savedResults(loaded));
      return true;
    } catch (e) {
      const message = sentence(e);
      this.store.setState({ loading: null, pairError: `Could not load ${label}: ${message}` });
      say('error', `Could not load ${label}: ${message}${this.store.getState().pair ? ` ${kept}` : ''}`, this.store);
      return false;
    }
  }

  private showPair({ memberNote, ...pair }: LoadedPairSummary, extra: Partial<State>, saved: Partial<State> = {}): void {
    this.store.setState((s) => ({
      ...extra,
      ...resetResults(pair.resultsKey),
      ...saved,
      // The member goes in the URL only where there is a choice: a v1 link stays as it was.
      member: pair.members.length > 1 ? pair.member : null,
      memberNote: memberNote ? `The link asks for a fine-tuned member this pair does not have: ${memberNote}.` : null,
      pair,
      loading: null,
      shift: s.shift === 'mean' || pair.sets.some((x) => x.id === s.shift && x.role === 'shift') ? s.shift : 'mean',
      customLabels: null,
      labelWarning: null,
      uploads: s.uploads.map((u) => ({ ...u, trajectory: null, current: null, resultsKey: null })),
    }));
    const note = this.store.getState().memberNote;
    if (note) say('info', note, this.store);
    this.d.evaluation.schedule(0);
    void this.d.uploads.refresh();
  }

  // The Worker reloaded the pair on the CPU (a lost GPU): recompute what is shown.
  private onRuntime(r: RuntimeInfo): void {
    this.store.setState({ runtime: r });
    if (r.note) say('error', r.note, this.store);
    void this.engine.current().then((pair) => {
      this.store.setState({ pair, ...resetResults(pair?.resultsKey ?? null) });
      this.d.evaluation.schedule(0);
    });
  }
}

export function createEngineSession(d: SessionDeps): EngineSession {
  return new Session(d);
}
