// "Fine-tune it yourself": a linear probe trained in the Worker on the user's <class>/<image>
// folder. One job at a time, told apart by its id; Cancel stops it in the Worker and a cancelled
// job adds no member. The new member joins the pair's member list; selecting it is the selector's.
import { errorMessage, type EngineApi, type PathBlob, type TrainingEvent, type TrainingResult } from '../../worker/protocol';
import { initialProbe, say, type State, type Store } from '../store';

/** The probe's recipe on a folder of a few hundred images (core/train/probe.ts FOLDER_RECIPE). */
export const PROBE_EPOCHS = 30;
export const PROBE_SEED = 0;

export interface LinearProbeController {
  /** The folder to train on (files with their relative paths); replaces the one picked before. */
  chooseFolder(files: PathBlob[]): void;
  /** Starts a job on the chosen folder; one already running is left alone. */
  start(options?: { epochs?: number; seed?: number }): Promise<void>;
  cancel(): void;
  dispose(): void;
}

type Probe = State['probe'];

class LinearProbe implements LinearProbeController {
  private files: PathBlob[] = [];
  private latestJob = 0;

  constructor(
    private readonly engine: EngineApi,
    private readonly store: Store,
  ) {}

  private set(patch: Partial<Probe>): void {
    this.store.setState((s) => ({ probe: { ...s.probe, ...patch } }));
  }

  chooseFolder(files: PathBlob[]): void {
    this.files = files;
    const name = files[0]?.path.replace(/^\/+/, '').split('/')[0] ?? '';
    this.set({ folder: files.length > 0 ? { name, files: files.length } : null, error: null });
  }

  async start(options: { epochs?: number; seed?: number } = {}): Promise<void> {
    const s = this.store.getState();
    if (s.probe.running !== null || this.files.length === 0 || !s.pair) return;
    const id = ++this.latestJob;
    this.set({ running: id, stage: null, validation: null, error: null });
    const job = { id, files: this.files, epochs: options.epochs ?? PROBE_EPOCHS, seed: options.seed ?? PROBE_SEED };
    try {
      this.finish(await this.engine.trainLinearProbe(job, (e) => this.onEvent(e)));
    } catch (e) {
      if (id !== this.latestJob) return;
      this.set({ running: null, stage: null, error: errorMessage(e) });
      say('error', `The linear probe stopped: ${errorMessage(e)}`, this.store);
    }
  }

  cancel(): void {
    const id = this.store.getState().probe.running;
    if (id === null) return;
    void this.engine.cancelTraining(id);
  }

  dispose(): void {
    this.latestJob++;
    this.store.setState({ probe: initialProbe });
  }

  private onEvent(e: TrainingEvent): void {
    if (e.jobId !== this.latestJob) return;
    if (e.kind === 'epoch') this.set({ stage: { phase: 'epoch', done: e.epoch, total: e.epochs }, validation: e.validation });
    else this.set({ stage: { phase: e.kind, done: e.done, total: e.total } });
  }

  private finish(r: TrainingResult): void {
    if (r.jobId !== this.latestJob) return;
    if (r.status === 'cancelled') {
      this.set({ running: null, stage: null, validation: null });
      return;
    }
    const result = { memberId: r.member.id, memberName: r.member.name, trainCount: r.trainCount, validation: r.validation };
    // Only the member list changes: the member blended, its results and α stay as they are.
    this.store.setState((s) => ({
      pair: s.pair && s.pair.bundleHash === r.pair.bundleHash ? { ...s.pair, members: r.pair.members } : s.pair,
      probe: { ...s.probe, running: null, stage: null, result, error: null },
    }));
    if (r.skipped.length > 0) say('info', `${r.skipped.length} file(s) of the folder were skipped: ${r.skipped[0]}`, this.store);
  }
}

export function createLinearProbe(engine: EngineApi, store: Store): LinearProbeController {
  return new LinearProbe(engine, store);
}
