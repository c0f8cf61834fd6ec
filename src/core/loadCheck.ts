// What a new pair must pass before it replaces the one in use. Loading only proves that onnxruntime
// accepts the graph; a pair whose logits are not one per class (10,000 classes on a 5-logit model,
// 3 classes on 5, a rank-1 output) evaluates to 0% or, worse, plausible wrong accuracies read at
// the wrong stride, and a pair whose shapes depend on the input may fail only when run. So every
// declared shape is checked against the manifest, then one tiny batch runs through the new pair,
// and the text tower encodes one prompt: a pair that fails any of these is refused with a message,
// and the previous pair stays in service.
import type { Manifest } from './bundle/manifest';
import type { BlendEngine, EngineInfo } from './runtime/engine';
import type { TextTower } from './text/head';

export class PairCheckError extends Error {
  override name = 'PairCheckError';
}

/** Images in the test batch: two, so a shape that confuses the batch with another axis shows. */
export const TEST_BATCH = 2;

const shape = (d: readonly (number | string | null)[]) => `[${d.map((x) => x ?? '?').join(', ')}]`;
const plural = (n: number, what: string) => `${n.toLocaleString('en')} ${what}${n === 1 ? '' : 'es'}`;

/** The graph's declared output shapes against the manifest: rank-2 logits, one per class; rank-2 embedding. */
export function checkDeclaredShapes(info: EngineInfo, m: Manifest): void {
  const classes = m.classes.length;
  const logits = info.outputDims[m.io.logits];
  if (logits) {
    if (logits.length !== 2) {
      throw new PairCheckError(
        `the image model's output '${m.io.logits}' is declared ${shape(logits)}, not [batch, ${classes}]: logits need one row per image and one column per class`,
      );
    }
    if (typeof logits[1] === 'number' && logits[1] !== classes) {
      throw new PairCheckError(
        `the image model's output '${m.io.logits}' has ${logits[1]} logits per image, but the manifest lists ${plural(classes, 'class')}: each class needs exactly one logit`,
      );
    }
  }
  const embedding = info.outputDims[m.io.embedding];
  if (embedding && embedding.length !== 2) {
    throw new PairCheckError(`the image model's output '${m.io.embedding}' is declared ${shape(embedding)}, not [batch, D]`);
  }
}

/** A deterministic, non-constant test image batch (a constant image can normalise to 0/0). */
function testBatch(size: number): Float32Array {
  const data = new Float32Array(TEST_BATCH * 3 * size * size);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 251) / 125 - 1;
  return data;
}

const brief = (e: unknown) => {
  const msg = (e as Error)?.message ?? String(e);
  return msg.length > 400 ? `${msg.slice(0, 400)}…` : msg;
};

/**
 * Runs the test batch through the pair (and one prompt through its text tower) and checks what
 * comes out: logits [batch, classes] and an embedding [batch, D], all finite; a text embedding of
 * the same D. Throws PairCheckError naming the problem.
 */
export async function checkPairRuns(engine: BlendEngine, text: TextTower | null, m: Manifest): Promise<void> {
  const size = m.preprocess.size;
  const classes = m.classes.length;
  let out: Awaited<ReturnType<BlendEngine['run']>>;
  try {
    out = await engine.run(0, { data: testBatch(size), dims: [TEST_BATCH, 3, size, size] });
  } catch (e) {
    throw new PairCheckError(`the pair loads but fails when run on a test batch of ${TEST_BATCH} images: ${brief(e)}`);
  }
  const logits = out[m.io.logits];
  const embedding = out[m.io.embedding];
  if (!logits || !embedding) throw new PairCheckError(`the test run gave no '${!logits ? m.io.logits : m.io.embedding}' output`);
  if (logits.dims.length !== 2 || logits.dims[0] !== TEST_BATCH || logits.dims[1] !== classes) {
    throw new PairCheckError(
      `on a test batch of ${TEST_BATCH} images the output '${m.io.logits}' is [${logits.dims.join(', ')}], not [${TEST_BATCH}, ${classes}] (one logit per class of the manifest's ${plural(classes, 'class')})`,
    );
  }
  if (embedding.dims.length !== 2 || embedding.dims[0] !== TEST_BATCH) {
    throw new PairCheckError(
      `on a test batch of ${TEST_BATCH} images the output '${m.io.embedding}' is [${embedding.dims.join(', ')}], not [${TEST_BATCH}, D]`,
    );
  }
  if (!logits.data.every(Number.isFinite))
    throw new PairCheckError(
      `on a test batch the output '${m.io.logits}' holds non-finite values (NaN or ∞): its accuracies would mean nothing`,
    );
  if (!text) return;
  let dim: number;
  try {
    const template = m.templates[0]!;
    dim = (await text.encode([template.replaceAll('{}', m.classes[0]!)])).dim;
  } catch (e) {
    throw new PairCheckError(`the text encoder loads but fails on a test prompt: ${brief(e)}`);
  }
  if (dim !== embedding.dims[1]) {
    throw new PairCheckError(
      `the text encoder's embedding has ${dim} dimensions but the image model's '${m.io.embedding}' has ${embedding.dims[1]}: a zero-shot head cannot join them`,
    );
  }
}
