import type { Manifest } from '../bundle/manifest';
import { EndpointLogits } from './endpoints';
import { CHUNK, ResultStore, markCorrect, planWork, type SetAccuracy, type WorkItem } from './frontier';
import { normalizeBatch, type EvalSetData } from './sprites';
import { yieldToEventLoop } from '../util/yield';
import { emptyCorrectness, markImages } from './stats';
import { addSums, calibrationSums, ece, meanNll, type CalibrationSums } from './calibration';
import { record } from './ids';
import { CalibrationStore } from './calibrationStore';
import { CalibrationReporter, type CalibrationReport, type CalibrationRequest, type CalibrationStats } from './calibrationReport';

/** One model run: the logits of a batch of normalised images ([n, 3, size, size]) at α. */
export type RunLogits = (alpha: number, input: { data: Float32Array; dims: number[] }) => Promise<Float32Array>;

export interface EvaluatorOptions {
  /** Classes in the model's logits. */
  classes: number;
  preprocess: Manifest['preprocess'];
  /**
   * Keep what calibration needs (calibrationStore.ts): per chunk its sums, per (α, set) its logits
   * within this many bytes (0: the sums alone). Absent: nothing is kept.
   */
  calibrationBudget?: number;
}

/**
 * Input per session.run: 8 images at CLIP's 224² (4.6 MiB; it was 16 MiB, 27 images). At 224² on
 * the wasm EP batches of 8 ran faster than larger ones (2.17 images/s against 1.86 at 16 and 1.72
 * at 27, one run, bench/analysis.md "A new α"), and onnxruntime's heap, which never shrinks, grew to
 * 1.30× one checkpoint at 8 against 1.56× at 27.
 */
const RUN_INPUT_BYTES = 8 * 3 * 224 * 224 * 4;

/** Images per session.run: whole chunks for small models, fewer for CLIP-sized inputs. */
export function batchSize(size: number): number {
  return Math.max(1, Math.min(CHUNK, Math.floor(RUN_INPUT_BYTES / (3 * size * size * 4))));
}

/**
 * Images per set of a new current α's first estimate: run before the plan's first chunks, so the
 * point has both coordinates (the reference and every shift set) after a few images of each, not a
 * whole chunk of each set. Their logits are kept and become the start of each set's first chunk.
 * 8, not 16: the estimate's images are most of the time to it, and halving them halved it
 * (bench/analysis.md, "A new α"); its interval is √2 wider, and the first chunk replaces it.
 */
export const PREVIEW_IMAGES = 8;

/** One set's preview at α: its first images' logits, and the accuracy they give. */
interface Preview {
  start: number;
  n: number;
  logits: Float32Array;
  accuracy: SetAccuracy;
}

/** One chunk's outcome: which images were right, and its calibration sums (null when they are not kept). */
interface ChunkOutcome {
  hits: Uint8Array;
  sums: CalibrationSums | null;
}

/**
 * The evaluation loop over a set of eval sets: records which images are predicted right per (α, set,
 * chunk) into its ResultStore, and keeps the endpoints' logits for the output-space ensemble. It knows nothing
 * of sessions or pairs: `run` is any model, which is how it is tested.
 */
export class FrontierEvaluator {
  readonly results: ResultStore;
  readonly endpoints: EndpointLogits;
  /** What calibration needs, when the options ask for it; null otherwise. */
  readonly calibration: CalibrationStore | null;
  private readonly reporter: CalibrationReporter | null;
  private readonly setsById: Map<string, EvalSetData>;
  /** Previews not yet folded into their chunk, by `${α}|${set}`; a chunk that runs takes its own. */
  private readonly previews = new Map<string, Preview>();

  constructor(
    private readonly runLogits: RunLogits,
    readonly sets: readonly EvalSetData[],
    private readonly opts: EvaluatorOptions,
  ) {
    this.results = new ResultStore(sets.map((s) => ({ id: s.spec.id, count: s.count })));
    this.endpoints = new EndpointLogits(sets, opts.classes);
    this.setsById = new Map(sets.map((s) => [s.spec.id, s]));
    this.calibration = opts.calibrationBudget === undefined ? null : new CalibrationStore(sets, opts.classes, opts.calibrationBudget);
    this.reporter = this.calibration && new CalibrationReporter(this.calibration, this.endpoints, sets, opts.classes);
  }

  /** Every set's ECE and NLL at α over the images evaluated there (T = 1); {} when none or not kept. */
  calibrationPoint(alpha: number): Record<string, CalibrationStats> {
    const out = record<CalibrationStats>();
    for (const s of this.sets) {
      const sums = this.calibration?.sums(alpha, s.spec.id);
      if (sums && sums.n > 0) out[s.spec.id] = { n: sums.n, correct: sums.correct, ece: ece(sums), nll: meanNll(sums) };
    }
    return out;
  }

  /** ECE and NLL per set along α, from what is evaluated so far (calibrationReport.ts); null when not kept. */
  calibrationReport(req: CalibrationRequest): CalibrationReport | null {
    return this.reporter?.report(req) ?? null;
  }

  /** The work left for this grid, the current α first (planWork's order), skipping chunks done. */
  plan(grid: readonly number[], current: number | null): WorkItem[] {
    return planWork(
      grid,
      current,
      this.sets.map((s) => ({ id: s.spec.id, count: s.count })),
      (item) => this.results.has(item),
    );
  }

  /**
   * A first estimate at `alpha`: the first PREVIEW_IMAGES images of each set whose first chunk is
   * in `plan`, spread over `lanes`, then one `onPoint` with every set (each with its own n). Nothing
   * is recorded: the logits wait for their chunk (runChunk), so no image is run twice.
   */
  async preview(
    alpha: number,
    plan: readonly WorkItem[],
    isStale: () => boolean,
    onPoint: (point: Record<string, SetAccuracy>) => void,
    lanes: readonly RunLogits[] = [this.runLogits],
  ): Promise<void> {
    const firsts = plan.filter((i) => i.alpha === alpha && i.chunk === 0 && !this.previews.has(this.previewKey(i)));
    // First chunks this small are a first estimate already; and a preview must never make an α
    // complete on the page while the engine has recorded nothing there.
    if (!firsts.some((i) => i.end - i.start > PREVIEW_IMAGES)) return;
    const share = (lane: number) => firsts.filter((_, i) => i % lanes.length === lane);
    await Promise.all(lanes.map((run, lane) => this.runPreviews(share(lane), run, isStale)));
    if (!isStale()) onPoint(this.pointAt(alpha));
  }

  private previewKey(item: WorkItem): string {
    return `${item.alpha}|${item.setId}`;
  }

  /** The previews of `items` on one engine, one session.run per set (packing them into one run measured no faster: bench/analysis.md, "A new α"). */
  private async runPreviews(items: readonly WorkItem[], runLogits: RunLogits, isStale: () => boolean): Promise<void> {
    const { classes, preprocess } = this.opts;
    const size = preprocess.size;
    for (const item of items) {
      if (isStale()) return;
      const n = Math.min(PREVIEW_IMAGES, item.end - item.start, batchSize(size));
      const data = normalizeBatch(
        this.setsById.get(item.setId)!,
        item.start,
        item.start + n,
        preprocess,
        new Float32Array(n * 3 * size * size),
      );
      // slice, not subarray: the preview waits for its chunk, and a lane may reuse its output buffer.
      const logits = (await runLogits(item.alpha, { data, dims: [n, 3, size, size] })).slice(0, n * classes);
      if (isStale()) return;
      this.keepPreview(item, n, logits);
    }
  }

  private keepPreview(item: WorkItem, n: number, logits: Float32Array): void {
    if (this.results.has(item)) return;
    const set = this.setsById.get(item.setId)!;
    const hits = new Uint8Array(n);
    const correct = markCorrect(logits, set.labels, item.start, n, this.opts.classes, set.classSubset, hits);
    const images = emptyCorrectness(set.count);
    markImages(images, item.start, hits);
    this.previews.set(this.previewKey(item), { start: item.start, n, logits, accuracy: { correct, n, total: set.count, images } });
  }

  /** Every set's accuracy at α: its chunks done, or where none is, its preview. */
  private pointAt(alpha: number): Record<string, SetAccuracy> {
    const point = this.results.point(alpha);
    for (const s of this.sets) {
      const p = this.previews.get(`${alpha}|${s.spec.id}`);
      if (p && !point[s.spec.id])
        point[s.spec.id] = {
          ...p.accuracy,
          images: { correct: p.accuracy.images!.correct.slice(), seen: p.accuracy.images!.seen.slice() },
        };
    }
    return point;
  }

  /**
   * Runs the plan chunk by chunk; after each chunk, `onChunk` gets every set's accuracy at its α.
   * `isStale` is asked between chunks and after every run: when it says so, the rest is dropped.
   * `lanes` are engines that each run one chunk at a time (helper Workers, eval/lanes.ts), taking the
   * plan's next chunk as they free up: the plan's order is the order chunks start in. Chunks are
   * recorded and reported here as they complete, so `onChunk` is called from one place, in order,
   * and never after this resolves: a lane's chunk in flight is awaited before the outcome is known.
   * `later`, lanes still starting: when they are ready, they take over from `lanes` (which finish
   * their chunk in flight), so a job need not wait for helper Workers to start.
   */
  async run(
    plan: readonly WorkItem[],
    isStale: () => boolean,
    onChunk: (item: WorkItem, point: Record<string, SetAccuracy>) => void,
    lanes: readonly RunLogits[] = [this.runLogits],
    later?: Promise<readonly RunLogits[]>,
  ): Promise<'done' | 'superseded'> {
    const state = { next: 0, superseded: false, failed: false, replaced: false, finished: false };
    const stale = () => state.superseded || (state.superseded = isStale());
    const start = (runLogits: RunLogits, replaceable: boolean) =>
      this.lane(plan, state, stale, runLogits, replaceable, onChunk).catch((e: unknown) => {
        state.failed = true;
        throw e;
      });
    const running = lanes.map((l) => start(l, later !== undefined));
    void later?.then(
      (more) => {
        if (state.finished || more.length === 0) return;
        state.replaced = true;
        running.push(...more.map((l) => start(l, false)));
      },
      () => undefined,
    );
    // allSettled, not all: a failing lane must not resolve this while another lane's chunk is in
    // flight (its event would come after the job's result); the others stop at their next chunk.
    // Again while lanes joined during the wait.
    let outcomes: PromiseSettledResult<void>[];
    do outcomes = await Promise.allSettled([...running]);
    while (outcomes.length < running.length);
    state.finished = true;
    const error = outcomes.find((o) => o.status === 'rejected');
    if (error) throw error.reason;
    return state.superseded ? 'superseded' : 'done';
  }

  /** One engine's loop: the plan's next chunk until none is left, the job is stale, a lane failed or (`replaceable`) lanes joined. */
  private async lane(
    plan: readonly WorkItem[],
    state: { next: number; failed: boolean; replaced: boolean },
    stale: () => boolean,
    runLogits: RunLogits,
    replaceable: boolean,
    onChunk: (item: WorkItem, point: Record<string, SetAccuracy>) => void,
  ): Promise<void> {
    const size = this.opts.preprocess.size;
    const input = new Float32Array(batchSize(size) * 3 * size * size);
    while (state.next < plan.length) {
      // Back to the event loop between chunks: ORT's run can resolve through microtasks alone, and
      // without this a Worker would not see a new α, a cancel or an upload until the whole plan ends.
      await yieldToEventLoop();
      if (stale() || state.failed || (replaceable && state.replaced) || state.next >= plan.length) return;
      const item = plan[state.next++]!;
      const outcome = await this.runChunk(item, input, stale, runLogits).catch((e: unknown) => {
        // A chunk of a job already superseded may fail because its engine was released (a new
        // pair, closed lanes): that is not this job's error, it has stopped anyway.
        if (stale()) return null;
        throw e;
      });
      if (outcome === null || state.failed) return;
      this.record(item, outcome, onChunk);
    }
  }

  private record(item: WorkItem, outcome: ChunkOutcome, onChunk: (item: WorkItem, point: Record<string, SetAccuracy>) => void): void {
    this.results.record(item, outcome.hits);
    if (outcome.sums) this.calibration?.record(item, outcome.sums);
    if (EndpointLogits.isEndpoint(item.alpha)) this.endpoints.markChunk(item.setId, item.alpha, item.chunk);
    onChunk(item, this.pointAt(item.alpha));
  }

  /**
   * Which images of one chunk are predicted right (1) or not (0), and the chunk's calibration sums
   * when they are kept, in batches that fit `input`; null once stale.
   */
  private async runChunk(item: WorkItem, input: Float32Array, isStale: () => boolean, runLogits: RunLogits): Promise<ChunkOutcome | null> {
    const set = this.setsById.get(item.setId)!;
    const { preprocess } = this.opts;
    const size = preprocess.size;
    const bs = input.length / (3 * size * size);
    const outcome: ChunkOutcome = { hits: new Uint8Array(item.end - item.start), sums: null };
    const preview = this.takePreview(item);
    if (preview) this.consume(item, set, preview.start, preview.n, preview.logits, outcome);
    for (let start = item.start + (preview?.n ?? 0); start < item.end; start += bs) {
      const n = Math.min(item.end, start + bs) - start;
      const data = normalizeBatch(set, start, start + n, preprocess, input);
      const logits = await runLogits(item.alpha, { data, dims: [n, 3, size, size] });
      if (isStale()) return null;
      this.consume(item, set, start, n, logits, outcome);
    }
    return outcome;
  }

  /** The preview that is the start of this chunk, taken out of the waiting ones; null when none is. */
  private takePreview(item: WorkItem): Preview | null {
    const key = this.previewKey(item);
    const p = this.previews.get(key);
    if (!p || p.start !== item.start || p.n > item.end - item.start) return null;
    this.previews.delete(key);
    return p;
  }

  /** Images start … start + n − 1 of the chunk, from their logits: right or not, endpoint logits, calibration. */
  private consume(item: WorkItem, set: EvalSetData, start: number, n: number, logits: Float32Array, outcome: ChunkOutcome): void {
    const { classes } = this.opts;
    markCorrect(logits, set.labels, start, n, classes, set.classSubset, outcome.hits.subarray(start - item.start));
    if (EndpointLogits.isEndpoint(item.alpha)) this.endpoints.keep(set, item.alpha, start, logits.subarray(0, n * classes));
    if (this.calibration) {
      const batch = calibrationSums(logits, set.labels, start, n, classes, set.classSubset);
      outcome.sums = outcome.sums ? addSums(outcome.sums, batch) : batch;
      this.calibration.keepLogits(set, item.alpha, start, logits.subarray(0, n * classes));
    }
  }

  /** Every α computed so far, with every set's accuracy there. */
  points(): Record<string, Record<string, SetAccuracy>> {
    const points: Record<string, Record<string, SetAccuracy>> = {};
    for (const a of this.results.alphas()) points[String(a)] = this.results.point(a);
    return points;
  }
}
