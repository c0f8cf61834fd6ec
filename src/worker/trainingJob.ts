// One training job as the Worker runs it: the user's <class>/<image> folder decoded to the model's
// input, then either the linear probe trained on the explorer's engine and its head written into
// the zero-shot checkpoint, or every weight fine-tuned end to end; either becomes a new member.
// Its events reach the page in order, before its result.
import type { Explorer } from '../core/explorer';
import { planTrainingFolder } from '../core/train/folder';
import { FOLDER_RECIPE } from '../core/train/probe';
import type { PauseGate } from '../core/train/pause';
import { readHead, writeHead } from '../core/train/head';
import { endToEndText, probeText, trainedMember, type TrainedMember } from '../core/train/member';
import { packRgb } from '../core/image/pack';
import { decode as decodePng } from 'fast-png';
import { readImageHeader, checkPixelBudget } from '../core/image/header';
import { resizeAndCrop, rgbaToRgb } from '../core/image/resize';
import { decodeToModelInput, MAX_IMAGE_FILE_BYTES } from './decode';
import type { EndToEndEvent } from '../core/train/endToEnd';
import type { FineTuneJob, HeldOut, PathBlob, TrainingEvent, TrainingJob } from './protocol';
import { runWorldFineTune } from './worldJob';

export interface TrainingDeps {
  explorer: Pick<Explorer, 'linearProbe' | 'fineTuneEndToEnd'>;
  /** The loaded bundle's zero-shot checkpoint: the probe starts from its head and is written into it. */
  zeroShot: Uint8Array;
  pair: { classes: string[]; inputSize: number };
  memberId: string;
  /** Pause and resume: the job holds between two steps while it is paused. */
  pause?: PauseGate;
}

export interface TrainedOutcome {
  member: TrainedMember;
  trainCount: number;
  validation: (HeldOut & { initial: number }) | null;
  skipped: string[];
}

/** Files read at once: one event-loop turn for a group, not one per file; bounded, as a file may be 200 MB. */
const READ_GROUP = 16;
const EPOCH_EVENT_MS = 100;
/** The share of each class held out for the live validation number, for both kinds of job. */
const VALIDATION_FRACTION = 0.25;

/**
 * Runs `job`; 'cancelled' once `signal` aborts (between two images, feature batches or steps).
 * `onEvent` may answer with a promise (a comlink proxy does): the job resolves after the last answer.
 */
export function runTrainingJob(
  deps: TrainingDeps,
  job: TrainingJob,
  onEvent: (e: TrainingEvent) => unknown,
  signal: AbortSignal,
): Promise<TrainedOutcome | 'cancelled'> {
  return runFolderJob(deps, job, onEvent, signal, async ({ pixels, labels }, send) => {
    const settings = { epochs: job.epochs, seed: job.seed, validationFraction: VALIDATION_FRACTION };
    const r = await deps.explorer.linearProbe(
      { pixels, labels, count: labels.length },
      readHead(deps.zeroShot),
      settings,
      (p) =>
        send(
          p.phase === 'features'
            ? { kind: 'features', jobId: job.id, done: p.done, total: p.total }
            : { kind: 'epoch', jobId: job.id, ...p },
        ),
      signal,
    );
    const recipe = { epochs: job.epochs, lr: FOLDER_RECIPE.lr, batchSize: FOLDER_RECIPE.batchSize };
    const facts = { id: deps.memberId, seed: job.seed, trainCount: r.trainCount, validation: r.validation, recipe };
    const member = await trainedMember(writeHead(deps.zeroShot, r.head), facts, probeText(facts));
    return { member, trainCount: r.trainCount, validation: r.validation };
  });
}

/** Fine-tunes every weight on the folder, one event per step; the same split as the probe's. */
export function runFineTuneJob(
  deps: TrainingDeps,
  job: FineTuneJob,
  onEvent: (e: TrainingEvent) => unknown,
  signal: AbortSignal,
): Promise<TrainedOutcome | 'cancelled'> {
  if (job.data?.kind === 'world') return runWorldFineTune(deps, job, job.data, onEvent, signal);
  return runFolderJob(deps, job, onEvent, signal, async ({ pixels, labels }, send) => {
    const { epochs, lr, batchSize, seed, init = 'zero-shot' } = job;
    const r = await deps.explorer.fineTuneEndToEnd(
      deps.zeroShot,
      { pixels, labels, count: labels.length },
      { epochs, lr, batchSize, seed, validationFraction: VALIDATION_FRACTION, init },
      (p) => send(endToEndEvent(job.id, p)),
      signal,
    );
    const facts = { id: deps.memberId, seed, trainCount: r.trainCount, validation: r.validation, recipe: { epochs, lr, batchSize }, init };
    const member = await trainedMember(r.model, facts, endToEndText(facts, epochs));
    return { member, trainCount: r.trainCount, validation: r.validation };
  });
}

/**
 * An end-to-end job's progress as the page's event: its steps, LP-FT's feature pass and probe epochs (as a probe's), and
 * each pass over the held-out images (render, LP-FT's features, accuracy before the first step and at each epoch's end).
 */
export function endToEndEvent(jobId: number, p: EndToEndEvent): TrainingEvent {
  if (!('phase' in p)) return { kind: 'step', jobId, ...p };
  if (p.phase === 'held-out-accuracy') return { kind: p.phase, jobId, epoch: p.epoch, done: p.done, total: p.total };
  if (p.phase !== 'epoch') return { kind: p.phase, jobId, done: p.done, total: p.total };
  const { epoch, epochs, loss, validation } = p;
  return { kind: 'epoch', jobId, epoch, epochs, loss, validation };
}

type Trained = Omit<TrainedOutcome, 'skipped'>;

/** Decodes the job's folder, trains on it with `train`, and waits until the page has every event. */
async function runFolderJob(
  deps: TrainingDeps,
  job: TrainingJob,
  onEvent: (e: TrainingEvent) => unknown,
  signal: AbortSignal,
  train: (images: { pixels: Uint8Array; labels: Int32Array }, send: (e: TrainingEvent) => Promise<void>) => Promise<Trained>,
): Promise<TrainedOutcome | 'cancelled'> {
  const events = eventChannel(onEvent);
  const send = gatedSend(deps, events, signal);
  try {
    const decoded = await decodeFolder(job.files, deps.pair, signal, (done, total) => send({ kind: 'decode', jobId: job.id, done, total }));
    const r = await train(decoded, send);
    await events.delivered();
    // A cancel that lands after the last step still cancels: the page was told it would add nothing.
    if (signal.aborted) return 'cancelled';
    return { ...r, skipped: decoded.skipped };
  } catch (e) {
    await events.delivered();
    if (signal.aborted) return 'cancelled';
    throw e;
  }
}

/**
 * Sends an event and returns what the trainers await between two steps: while the job is paused,
 * that waits for Resume (or the cancel).
 */
export function gatedSend(deps: TrainingDeps, events: { send(e: TrainingEvent): void }, signal: AbortSignal) {
  return (e: TrainingEvent): Promise<void> => {
    events.send(e);
    return deps.pause?.passed(signal) ?? Promise.resolve();
  };
}

/** Sends events in order and tells when the page has taken the last one. */
export function eventChannel(onEvent: (e: TrainingEvent) => unknown): { send(e: TrainingEvent): void; delivered(): Promise<unknown> } {
  let delivered: Promise<unknown> = Promise.resolve();
  let lastEpochEvent = -Infinity;
  const send = (e: TrainingEvent) => {
    // Small data trains thousands of epochs a second: the page needs a few updates a second, not each.
    if (e.kind === 'epoch' && e.epoch < e.epochs && performance.now() - lastEpochEvent < EPOCH_EVENT_MS) return;
    if (e.kind === 'epoch') lastEpochEvent = performance.now();
    delivered = Promise.resolve(onEvent(e)).catch(() => undefined);
  };
  return { send, delivered: () => delivered };
}

async function decodeFolder(
  files: PathBlob[],
  pair: { classes: string[]; inputSize: number },
  signal: AbortSignal,
  onProgress: (done: number, total: number) => Promise<void>,
): Promise<{ pixels: Uint8Array; labels: Int32Array; skipped: string[] }> {
  const plan = planTrainingFolder(
    files.map((f) => f.path),
    pair.classes,
  );
  const byPath = new Map(files.map((f) => [f.path.replace(/\\/g, '/').replace(/^\/+/, ''), f.blob]));
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  const skipped: string[] = [];
  for (let start = 0; start < plan.length; start += READ_GROUP) {
    signal.throwIfAborted();
    const group = plan.slice(start, start + READ_GROUP);
    const decoded = await Promise.all(group.map((f) => decodeTrainingImage(byPath.get(f.path)!, f.path, pair.inputSize)));
    decoded.forEach((d, i) => {
      if (typeof d === 'string') skipped.push(d);
      else {
        images.push(d);
        labels.push(group[i]!.label);
      }
    });
    await onProgress(start + group.length, plan.length);
  }
  const pixels = packRgb(images, pair.inputSize, (i) => `training image ${i}`);
  return { pixels, labels: Int32Array.from(labels), skipped };
}

/**
 * The model's input from one file, or why it was skipped. An 8-bit RGB(A) PNG is decoded here, in
 * one go: while the frontier is evaluated the Worker takes other tasks only between chunks, and the
 * browser's decoder (createImageBitmap, then a canvas) waits for several, measured 3–5 s an image at
 * load average 20. Any other file goes to the browser's decoder, as an upload does.
 */
async function decodeTrainingImage(blob: Blob, name: string, size: number): Promise<Uint8Array | string> {
  try {
    const fast = blob.size <= MAX_IMAGE_FILE_BYTES ? pngInput(new Uint8Array(await blob.arrayBuffer()), name, size) : null;
    return fast ?? (await decodeToModelInput(blob, name, size, 'bicubic')).rgb;
  } catch (e) {
    return (e as Error).message;
  }
}

/** An 8-bit RGB or RGBA PNG at the model's size (alpha dropped, as the browser path does); null for any other file. */
function pngInput(bytes: Uint8Array, name: string, size: number): Uint8Array | null {
  const header = readImageHeader(bytes);
  if (header?.format !== 'png') return null;
  checkPixelBudget(name, header, bytes.length);
  const img = decodePng(bytes);
  if (img.depth !== 8 || img.palette || !(img.data instanceof Uint8Array)) return null;
  const { width, height } = img;
  if (img.channels === 4) return resizeAndCrop(rgbaToRgb(img.data, width, height), size, 'bicubic').data;
  return img.channels === 3 ? resizeAndCrop({ width, height, data: img.data }, size, 'bicubic').data : null;
}
