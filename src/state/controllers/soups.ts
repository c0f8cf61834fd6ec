// Soups over the bundle's members: the uniform soup, the greedy soup (its steps revealed one at a
// time) and Model Stock, and the triangle's cells. Owns the soup jobs (phasedJobs.ts: their ids,
// the debounce timer), the greedy animation's timer and the store subscription that follows the pair. Work goes in
// phases, as the per-layer controller's: every soup and cell on 100 images first, then the soups
// on every image; a change supersedes the job, and chunks already done cost nothing.
import type { EngineApi, PairSummary, SoupEvent, SoupRecipe } from '../../worker/protocol';
import { SOUP_FIRST_IMAGES, triangleCells, triangleMembers, triangleOrder } from '../soups';
import type { State, Store } from '../store';
import { PhasedJobs } from './phasedJobs';

export interface SoupsController {
  setSoupsOn(on: boolean): void;
  /** Shows the triangle with reference or shift accuracy, or hides it (null). */
  setTriangle(view: 'reference' | 'shift' | null): void;
  dispose(): void;
}

/** Time each greedy step stays the newest, so that a step decided at once can still be followed. */
export const GREEDY_STEP_MS = 700;
const SOUPS: readonly SoupRecipe[] = [{ kind: 'uniform' }, { kind: 'greedy' }, { kind: 'model-stock' }];
const PHASES = 3;

type Work = { recipes: SoupRecipe[]; imagesPerSet: number };

class Soups implements SoupsController {
  private animation: ReturnType<typeof setInterval> | null = null;
  private readonly unsubscribe: () => void;
  private readonly jobs: PhasedJobs<Work>;

  constructor(
    private readonly engine: EngineApi,
    private readonly store: Store,
  ) {
    this.jobs = new PhasedJobs<Work>({
      store,
      phases: PHASES,
      work: (s, phase) => this.work(s, phase),
      start: (id, work) => this.engine.evaluateSoups({ id, ...work }, this.onEvent),
      evaluating: (on) => ({ soupEvaluating: on }),
      failure: 'Soup evaluation stopped',
      // A greedy run decides its steps again on more images: the list starts over.
      onStart: (work) => {
        if (work.recipes.some((r) => r.kind === 'greedy')) this.restartGreedy();
      },
      onDone: (work) => {
        if (work.recipes.some((r) => r.kind === 'greedy')) this.store.setState({ soupImages: work.imagesPerSet });
      },
    });
    this.unsubscribe = store.subscribe((s, prev) => {
      if (s.pair?.resultsKey !== prev.pair?.resultsKey) this.onPair(s.pair);
    });
  }

  setSoupsOn(on: boolean): void {
    this.store.setState(on ? { soupsOn: true } : { soupsOn: false, triangle: null });
    this.jobs.schedule();
  }

  setTriangle(view: 'reference' | 'shift' | null): void {
    const was = this.store.getState().triangle;
    this.store.setState({ triangle: view, ...(view ? { soupsOn: true } : {}) });
    // Switching what the heatmap shows needs no new work.
    if ((was === null) !== (view === null)) this.jobs.schedule();
  }

  dispose(): void {
    this.jobs.dispose();
    this.stopAnimation();
    this.unsubscribe();
  }

  private onPair(pair: PairSummary | null): void {
    this.jobs.supersede();
    this.stopAnimation();
    this.store.setState({ soupPoints: {}, greedySteps: [], greedyShown: 0, stock: null, soupImages: null, soupEvaluating: false });
    if (pair && this.store.getState().soupsOn) this.jobs.schedule(0);
  }

  private stopAnimation(): void {
    if (this.animation) clearInterval(this.animation);
    this.animation = null;
  }

  /** Reveals the next greedy step every GREEDY_STEP_MS until every decided step is shown. */
  private animate(): void {
    if (this.animation) return;
    this.animation = setInterval(() => {
      const s = this.store.getState();
      if (s.greedyShown < s.greedySteps.length) this.store.setState({ greedyShown: s.greedyShown + 1 });
      else this.stopAnimation();
    }, GREEDY_STEP_MS);
  }

  private readonly onEvent = (e: SoupEvent): void => {
    if (this.store.getState().pair?.resultsKey !== e.resultsKey) return;
    if (e.kind === 'greedy-step') {
      // A superseded job's steps were decided on another run: only the latest job's are listed.
      if (e.jobId !== this.jobs.latest) return;
      this.store.setState((s) => ({ greedySteps: [...s.greedySteps, { step: e.step, soupKey: e.soupKey }] }));
      return this.animate();
    }
    if (e.kind === 'model-stock') return this.store.setState({ stock: { layers: e.layers, soupKey: e.soupKey } });
    this.store.setState((s) => {
      // Counts only grow: a point that has seen fewer images (an older job's) never replaces one.
      const old = s.soupPoints[e.soupKey];
      const seen = (p: typeof old) => Object.values(p ?? {}).reduce((n, a) => n + a.n, 0);
      return seen(e.point) < seen(old) ? {} : { soupPoints: { ...s.soupPoints, [e.soupKey]: e.point } };
    });
  };

  /** Phase p's work: the soups on 100 images, the triangle's cells (current point first), the soups on every image. */
  private work(s: State, phase: number): Work | null {
    if (!s.pair || !s.soupsOn || s.pair.members.length < 2) return null;
    const members = triangleMembers(s.pair);
    const k = s.pair.members.length + 1;
    const cells = s.triangle && members ? triangleOrder(triangleCells(k, members), s.alpha) : null;
    const all = Math.max(...s.pair.sets.map((x) => x.count));
    const phases: (Work | null)[] = [
      { recipes: [...SOUPS], imagesPerSet: SOUP_FIRST_IMAGES },
      cells && { recipes: cells.map((c) => ({ kind: 'weights', weights: c.weights })), imagesPerSet: SOUP_FIRST_IMAGES },
      { recipes: [...SOUPS], imagesPerSet: all },
    ];
    return phases[phase] ?? null;
  }

  private restartGreedy(): void {
    this.stopAnimation();
    this.store.setState({ greedySteps: [], greedyShown: 0 });
  }
}

export function createSoups(engine: EngineApi, store: Store): SoupsController {
  return new Soups(engine, store);
}
