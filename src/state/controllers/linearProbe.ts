// "Fine-tune it yourself": a linear probe (the head) or an end-to-end fine-tune (every weight)
// trained in the Worker on the user's <class>/<image> folder. One job at a time, told apart by its
// id; Cancel stops it in the Worker and a cancelled job adds no member. The new member joins the
// pair's member list; selecting it is the selector's.
import { errorMessage, type EngineApi, type PathBlob, type TrainingEvent, type TrainingResult } from '../../worker/protocol';
import { initialProbe, probeFromLink, say, type State, type Store } from '../store';
import { MAX_WORLD_IMAGES, WORLD_SEED, type FineTunePresetId } from '../finetunePresets';

/** The probe's recipe on a folder of a few hundred images (core/train/probe.ts FOLDER_RECIPE). */
export const PROBE_EPOCHS = 30;
export const PROBE_SEED = 0;

type Probe = State['probe'];

type Settings = Probe['fineTune'];
const FIELDS: Record<Exclude<keyof Settings, 'init'>, string> = { epochs: 'Epochs', lr: 'The learning rate', batchSize: 'The batch size' };
const INITS: readonly Settings['init'][] = ['zero-shot', 'linear-probe'];

export interface LinearProbeController {
  /** The folder to train on (files with their relative paths); replaces the one picked before. */
  chooseFolder(files: PathBlob[]): void;
  /** Head only, or every weight; not while a job runs. */
  setMethod(method: Probe['method']): void;
  /**
   * End-to-end settings; a value that is not a positive number (a whole one for epochs and batch), or a start that is neither the
   * zero-shot head nor LP-FT's probe, is refused in words, the old kept.
   */
  setFineTune(patch: Partial<Probe['fineTune']>): void;
  /** End to end on the folder or on images the world's renderer generates; not while a job runs. */
  setSource(source: Probe['source']): void;
  /** The generated world's shortcut strength (0–1), image count and style mix (0–1); a bad value is refused in words, the old kept. */
  setWorld(patch: Partial<Probe['world']>): void;
  /** A lab's settings (finetunePresets.ts): end to end, generated images, its shortcut, the bundled recipe; not while a job runs. */
  applyPreset(id: FineTunePresetId): void;
  /** Starts a job of the chosen method on the chosen folder; one already running is left alone. `epochs` overrides the method's. */
  start(options?: { epochs?: number; seed?: number }): Promise<void>;
  cancel(): void;
  /** Pauses or resumes the running job; the page stays live either way. */
  setPaused(paused: boolean): void;
  dispose(): void;
}

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

  setMethod(method: Probe['method']): void {
    if (this.store.getState().probe.running === null) this.set({ method, error: null });
  }

  setFineTune(patch: Partial<Settings>): void {
    const { init, ...numbers } = patch;
    if (init !== undefined && !INITS.includes(init)) {
      this.set({ error: `A fine-tune starts from ${INITS.join(' or ')}, not “${String(init).slice(0, 40)}”; kept the previous choice` });
      return;
    }
    const bad = Object.entries(numbers).find(([k, v]) => !(v > 0 && Number.isFinite(v) && (k === 'lr' || Number.isInteger(v))));
    if (bad) {
      const what = bad[0] === 'lr' ? 'a positive number' : 'a whole number ≥ 1';
      this.set({ error: `${FIELDS[bad[0] as keyof typeof FIELDS]} must be ${what}; kept the previous value` });
      return;
    }
    this.set({ fineTune: { ...this.store.getState().probe.fineTune, ...patch }, preset: null, error: null });
  }

  setSource(source: Probe['source']): void {
    if (this.store.getState().probe.running === null) this.set({ source, preset: null, error: null });
  }

  setWorld(patch: Partial<Probe['world']>): void {
    const { shortcut, n, styleMix } = patch;
    if (shortcut !== undefined && !(shortcut >= 0 && shortcut <= 1))
      return this.set({ error: `The shortcut strength must be from 0 to 100%; kept the previous value` });
    if (styleMix !== undefined && !(styleMix >= 0 && styleMix <= 1))
      return this.set({ error: `The style mix must be from 0 to 100%; kept the previous value` });
    if (n !== undefined && !(Number.isInteger(n) && n >= 1 && n <= MAX_WORLD_IMAGES))
      return this.set({
        error: `The number of generated images must be a whole number from 1 to ${MAX_WORLD_IMAGES}; kept the previous value`,
      });
    this.set({ world: { ...this.store.getState().probe.world, ...patch }, preset: null, error: null });
  }

  applyPreset(id: FineTunePresetId): void {
    if (this.store.getState().probe.running !== null) return;
    const { method, source, fineTune, world, preset, error } = probeFromLink(id);
    this.set({ method, source, fineTune, world, preset, error });
  }

  async start(options: { epochs?: number; seed?: number } = {}): Promise<void> {
    const s = this.store.getState();
    const world = s.probe.method === 'end-to-end' && s.probe.source === 'world';
    if (s.probe.running !== null || (this.files.length === 0 && !world) || !s.pair) return;
    const id = ++this.latestJob;
    const { method, fineTune } = s.probe;
    this.set({ running: id, paused: false, stage: null, loss: null, validation: null, error: null });
    const seed = options.seed ?? PROBE_SEED;
    const onEvent = (e: TrainingEvent) => this.onEvent(e);
    try {
      this.finish(
        method === 'end-to-end'
          ? await this.engine.fineTuneEndToEnd(
              {
                id,
                ...(world ? { files: [], data: { kind: 'world', ...s.probe.world, seed: WORLD_SEED } } : { files: this.files }),
                ...fineTune,
                epochs: options.epochs ?? fineTune.epochs,
                seed,
              },
              onEvent,
            )
          : await this.engine.trainLinearProbe({ id, files: this.files, epochs: options.epochs ?? PROBE_EPOCHS, seed }, onEvent),
      );
    } catch (e) {
      if (id !== this.latestJob) return;
      this.set({ running: null, paused: false, stage: null, error: errorMessage(e) });
      const what = method === 'end-to-end' ? 'The end-to-end fine-tune' : 'The linear probe';
      say('error', `${what} stopped: ${errorMessage(e)}`, this.store);
    }
  }

  cancel(): void {
    const id = this.store.getState().probe.running;
    if (id === null) return;
    void this.engine.cancelTraining(id);
  }

  setPaused(paused: boolean): void {
    const id = this.store.getState().probe.running;
    if (id === null) return;
    this.set({ paused });
    void this.engine.setTrainingPaused(id, paused);
  }

  dispose(): void {
    this.latestJob++;
    this.store.setState({ probe: initialProbe });
  }

  private onEvent(e: TrainingEvent): void {
    if (e.jobId !== this.latestJob) return;
    if (e.kind === 'epoch') this.set({ stage: { phase: 'epoch', done: e.epoch, total: e.epochs }, loss: e.loss, validation: e.validation });
    else if (e.kind === 'step')
      // Held-out accuracy is measured at an epoch's end only: between, the last one stays shown.
      this.set({
        stage: { phase: 'step', done: e.step, total: e.steps },
        loss: e.loss,
        ...(e.validation ? { validation: e.validation } : {}),
      });
    else if (e.kind === 'held-out-accuracy') this.set({ stage: { phase: e.kind, epoch: e.epoch, done: e.done, total: e.total } });
    else this.set({ stage: { phase: e.kind, done: e.done, total: e.total } });
  }

  private finish(r: TrainingResult): void {
    if (r.jobId !== this.latestJob) return;
    if (r.status === 'cancelled') {
      this.set({ running: null, paused: false, stage: null, validation: null });
      return;
    }
    const result = { memberId: r.member.id, memberName: r.member.name, trainCount: r.trainCount, validation: r.validation };
    // Only the member list changes: the member blended, its results and α stay as they are.
    this.store.setState((s) => ({
      pair:
        s.pair && s.pair.bundleHash === r.pair.bundleHash
          ? { ...s.pair, members: r.pair.members, trainedHere: r.pair.trainedHere }
          : s.pair,
      probe: { ...s.probe, running: null, paused: false, stage: null, result, error: null },
    }));
    if (r.skipped.length > 0) say('info', `${r.skipped.length} file(s) of the folder were skipped: ${r.skipped[0]}`, this.store);
  }
}

export function createLinearProbe(engine: EngineApi, store: Store): LinearProbeController {
  return new LinearProbe(engine, store);
}
