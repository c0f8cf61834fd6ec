// The engine's session as the page sees it: the backend, the pair and member loaded, the eval sets
// in use. A load that fails says why and keeps the previous pair, its results and α.
import { errorMessage, type EngineApi, type LoadedPairSummary, type LoadProgress, type PairRequest, type PathBlob, type RuntimeInfo } from '../../worker/protocol';
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

export function createEngineSession(d: SessionDeps): EngineSession {
  const { engine, store, evaluation, uploads } = d;

  /** Shows the loading bar while `run` goes, with its progress and elapsed time. */
  async function withLoading<T>(label: string, run: (tick: (p: LoadProgress) => void) => Promise<T>): Promise<T> {
    store.setState({ loading: { label, progress: null, startedAt: performance.now() }, pairError: null });
    return run((p) => store.setState((s) => (s.loading ? { loading: { ...s.loading, progress: { ...p, elapsedMs: performance.now() - s.loading.startedAt } } } : {})));
  }

  function failed(label: string, e: unknown, kept: string): false {
    const message = sentence(e);
    store.setState({ loading: null, pairError: `Could not load ${label}: ${message}` });
    say('error', `Could not load ${label}: ${message}${store.getState().pair ? ` ${kept}` : ''}`, store);
    return false;
  }

  function showPair({ memberNote, ...pair }: LoadedPairSummary, extra: Partial<State>): void {
    store.setState((s) => ({
      ...extra,
      ...resetResults(pair.resultsKey),
      // The member goes in the URL only where there is a choice: a v1 link stays as it was.
      member: pair.members.length > 1 ? pair.member : null,
      memberNote: memberNote ? `The link asks for a fine-tuned member this pair does not have: ${memberNote}.` : null,
      pair,
      loading: null,
      shift: s.shift === 'mean' || pair.sets.some((x) => x.id === s.shift && x.role === 'shift') ? s.shift : 'mean',
      customLabels: null,
      uploads: s.uploads.map((u) => ({ ...u, trajectory: null, current: null, resultsKey: null })),
    }));
    const note = store.getState().memberNote;
    if (note) say('info', note, store);
    evaluation.schedule(0);
    void uploads.refresh();
  }

  async function showLoad(label: string, call: (progress: (p: LoadProgress) => void) => Promise<LoadedPairSummary>, extra: Partial<State>, kept: string): Promise<boolean> {
    try {
      showPair(await withLoading(label, call), extra);
      return true;
    } catch (e) {
      return failed(label, e, kept);
    }
  }

  // The Worker reloaded the pair on the CPU (a lost GPU): recompute what is shown.
  async function afterBackendChange(): Promise<void> {
    const pair = await engine.current();
    store.setState({ pair, ...resetResults(pair?.resultsKey ?? null) });
    evaluation.schedule(0);
  }

  function onRuntime(r: RuntimeInfo): void {
    store.setState({ runtime: r });
    if (r.note) say('error', r.note, store);
    void afterBackendChange();
  }

  return {
    async init() {
      const runtime = await engine.init(store.getState().backendChoice, onRuntime);
      store.setState({ runtime });
      if (runtime.note) say('info', runtime.note, store);
      return runtime;
    },

    async loadPair(req, label, member = null) {
      if (req.kind === 'url') {
        // A relative ?pair= or typed path is relative to this page: the Worker would resolve it
        // against its own script's URL (…/assets/), a different folder.
        try {
          req = { kind: 'url', url: new URL(req.url, d.pageUrl()).href };
        } catch {
          store.setState({ pairError: `Could not load ${label}: '${req.url}' is not a URL.` });
          say('error', `Could not load ${label}: '${req.url}' is not a URL.${store.getState().pair ? ' The previous pair is still loaded.' : ''}`, store);
          return false;
        }
      }
      const r = req;
      const isBundled = r.kind === 'url' && r.url === d.bundledPairUrl();
      return showLoad(label, (progress) => engine.loadPair(r, progress, member), { pairUrl: r.kind === 'url' && !isBundled ? r.url : null }, 'The previous pair is still loaded.');
    },

    async selectMember(id) {
      const pair = store.getState().pair;
      if (!pair || id === pair.member) return false;
      const name = pair.members.find((m) => m.id === id)?.name ?? id;
      return showLoad(`the member '${name}'`, (progress) => engine.loadMember(id, progress), {}, 'The previous member is still loaded.');
    },

    cancelLoad() {
      void engine.cancelLoad();
    },

    async loadEvalFolder(files, reference = null) {
      try {
        const r = await withLoading('your eval images', (tick) => engine.useEvalFolder(files, reference, (done, total) => tick({ file: `image ${done} of ${total}`, loaded: done, total, bundleLoaded: 0, bundleTotal: null })));
        store.setState({ pair: r.pair, loading: null, shift: 'mean', ...resetResults(r.pair.resultsKey) });
        const sets = r.pair.sets.map((x) => `${isolate(x.name)} (${x.count}${x.role === 'reference' ? ', reference' : ''})`);
        say('info', `Using your eval sets: ${listSome(sets, 8, 200)}.${r.skipped.length ? ` Skipped ${r.skipped.length.toLocaleString('en')} file(s): ${listSome(r.skipped, 3, 240)}.` : ''}`, store);
        evaluation.schedule(0);
        return true;
      } catch (e) {
        const message = errorMessage(e);
        store.setState({ loading: null, pairError: `Could not use those eval images: ${message}` });
        say('error', `Could not use those eval images: ${message}. The current eval sets are still in use.`, store);
        return false;
      }
    },

    async exportBlended() {
      const s = store.getState();
      if (!s.pair) return;
      try {
        const bytes = await engine.exportOnnx(s.alpha);
        // With several members the file says which one α = 1 is.
        downloadBlob(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), `wiseft-alpha-${s.alpha.toFixed(2)}${s.pair.members.length > 1 ? `-${s.pair.member}` : ''}.onnx`);
      } catch (e) {
        say('error', `Export failed: ${errorMessage(e)}`, store);
      }
    },
  };
}
