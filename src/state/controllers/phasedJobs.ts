// The phased job loop the per-layer and soups controllers share: work in phases (a first pass on
// 100 images per set, then more), one engine job per phase, each with an id. A change schedules
// the loop again from the first phase after a debounce, and the new job supersedes the running one
// (the engine keeps chunks already done, so an earlier phase costs nothing the second time). Owns
// the job id and the debounce timer; the controller owns what a phase's work is and its events.
import { errorCode, errorMessage } from '../../worker/protocol';
import { say, type State, type Store } from '../store';
import { EVAL_DEBOUNCE_MS } from './evaluation';

export interface PhasedJobSpec<W> {
  store: Store;
  phases: number;
  /** Phase p's work, or null when it has none (the loop goes on to the next phase). */
  work(s: State, phase: number): W | null;
  /** Starts job `id` on the engine; resolves with its status once all of its events are in. */
  start(id: number, work: W): Promise<{ status: 'done' | 'superseded' }>;
  /** The store's "evaluating" flag of this kind of job, on or off. */
  evaluating(on: boolean): Partial<State>;
  /** What a failure's message starts with ("Soup evaluation stopped"). */
  failure: string;
  /** Before job `work` starts. */
  onStart?(work: W): void;
  /** After job `work` is done (and still the latest). */
  onDone?(work: W): void;
}

export class PhasedJobs<W> {
  private latestJob = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly spec: PhasedJobSpec<W>) {}

  /** The id of the latest job started: events of older ones can be told apart. */
  get latest(): number {
    return this.latestJob;
  }

  /** Runs the phases from the first after `delayMs`, restarting the wait. */
  schedule(delayMs = EVAL_DEBOUNCE_MS): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delayMs);
  }

  /** Every job started so far is stale: its outcome starts no next phase. */
  supersede(): void {
    this.latestJob++;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.latestJob++;
  }

  private async run(phase = 0): Promise<void> {
    this.timer = null;
    const spec = this.spec;
    const store = spec.store;
    const s = store.getState();
    if (phase >= spec.phases || !s.pair) return store.setState(spec.evaluating(false));
    const work = spec.work(s, phase);
    if (!work) return this.run(phase + 1);
    const id = ++this.latestJob;
    spec.onStart?.(work);
    store.setState(spec.evaluating(true));
    try {
      const r = await spec.start(id, work);
      if (id !== this.latestJob || r.status !== 'done') return;
      spec.onDone?.(work);
      await this.run(phase + 1);
    } catch (e) {
      if (id === this.latestJob) store.setState(spec.evaluating(false));
      if (errorCode(e) !== 'no-pair') say('error', `${spec.failure}: ${errorMessage(e)}`, store);
    }
  }
}
