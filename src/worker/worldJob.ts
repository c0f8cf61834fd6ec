// An end-to-end fine-tune on images the world's renderer generates in the Worker (core/world): no
// folder to decode; the training rows are tools.train.finetune_data's for the job's seed and
// shortcut, the held-out images another draw of the same world. The world's pairs only (its 10
// classes, or the 20 of WISEFT_WORLD_CLASSES=20): the world's labels are its class indices.
import { TrainingError } from '../core/train/data';
import { trainedMember, worldEndToEndText } from '../core/train/member';
import { worldClasses } from '../core/world/params';
import { checkWorldSpec, type WorldTrainingSpec } from '../core/world/source';
import type { FineTuneJob, TrainingEvent } from './protocol';
import { endToEndEvent, eventChannel, gatedSend, type TrainedOutcome, type TrainingDeps } from './trainingJob';

/** The share held out is the world's own draw (source.ts worldHeldOutCount); this is for a folder's split only. */
const UNUSED_FOLDER_SHARE = 0;

export async function runWorldFineTune(
  deps: TrainingDeps,
  job: FineTuneJob,
  spec: WorldTrainingSpec,
  onEvent: (e: TrainingEvent) => unknown,
  signal: AbortSignal,
): Promise<TrainedOutcome | 'cancelled'> {
  const events = eventChannel(onEvent);
  const send = gatedSend(deps, events, signal);
  try {
    const classes = worldClassCount(deps.pair.classes);
    checkWorldSpec(spec);
    const { epochs, lr, batchSize, seed, init = 'zero-shot' } = job;
    const r = await deps.explorer.fineTuneEndToEnd(
      deps.zeroShot,
      { ...spec, classes },
      { epochs, lr, batchSize, seed, validationFraction: UNUSED_FOLDER_SHARE, init },
      (p) => send(endToEndEvent(job.id, p)),
      signal,
    );
    const facts = { id: deps.memberId, seed, trainCount: r.trainCount, validation: r.validation, recipe: { epochs, lr, batchSize }, init };
    const member = await trainedMember(r.model, facts, worldEndToEndText(facts, epochs, spec.shortcut, spec.styleMix ?? 0));
    await events.delivered();
    if (signal.aborted) return 'cancelled';
    return { member, trainCount: r.trainCount, validation: r.validation, skipped: [] };
  } catch (e) {
    await events.delivered();
    if (signal.aborted) return 'cancelled';
    throw e;
  }
}

/** The world's labels index its classes: a pair with other classes (or another order) cannot train on them. */
function worldClassCount(classes: readonly string[]): 10 | 20 {
  const same = (world: string[]) => classes.length === world.length && classes.every((c, i) => c === world[i]);
  if (same(worldClasses(10))) return 10;
  if (same(worldClasses(20))) return 20;
  throw new TrainingError(
    `generated images are of the bundled world's 20 classes (${worldClasses(20).join(', ')}) or the first 10 of them (the world before round 8); this pair's classes are ${classes.join(', ')}. Train on a folder instead`,
  );
}
