import { Tokenizer } from '@huggingface/tokenizers';
import type { InferenceSession } from 'onnxruntime-common';
import type { Manifest } from '../bundle/manifest';
import { ortMessage, type OrtModule } from '../runtime/engine';
import { ortQueue } from '../runtime/ortQueue';
import { ResourceLedger } from '../runtime/ledger';

/**
 * tokenizers.js has no WordLevel model. A WordLevel vocabulary behaves the same as WordPiece over
 * the same vocabulary (a whole word in the vocabulary is one token; any other word is the unknown
 * token), so small word-level tokenizers are read as WordPiece.
 */
function compatible(json: unknown): Record<string, unknown> {
  const j = json as { model?: { type?: string; vocab?: unknown; unk_token?: string } };
  if (j?.model?.type === 'WordLevel') {
    return {
      ...(j as object),
      model: {
        type: 'WordPiece',
        vocab: j.model.vocab,
        unk_token: j.model.unk_token ?? '[UNK]',
        continuing_subword_prefix: '\u0000##',
        max_input_chars_per_word: 1000,
      },
    };
  }
  return j as Record<string, unknown>;
}

/** The largest word-level vocabulary the pair summary carries to the page for listing. */
export const MAX_VOCABULARY_SHOWN = 5000;

/**
 * The words of `labels` the tokenizer maps to its unknown token: the text encoder reads them all as
 * the same [UNK], so labels that differ only there get the same head row. Each label is split by
 * the tokenizer's own pre-tokenizer and every piece encoded alone, so the words named are the
 * user's, as typed. A byte-level BPE (CLIP's) has no unknown token: nothing is unknown to it.
 */
export function unknownWords(tokenizer: Tokenizer, labels: readonly string[]): string[] {
  const unk = tokenizer.model?.unk_token_id;
  if (unk === undefined) return [];
  const out = new Set<string>();
  for (const label of labels) {
    const pieces = tokenizer.pre_tokenizer?.pre_tokenize(label) ?? label.split(/\s+/);
    for (const piece of pieces) {
      if (piece.trim() && tokenizer.encode(piece, { add_special_tokens: false }).ids.includes(unk)) out.add(piece.trim());
    }
  }
  return [...out];
}

/**
 * The whole words the tokenizer knows, sorted, for a word-level vocabulary of at most
 * MAX_VOCABULARY_SHOWN words (the bundled pair's has 47); null for a tokenizer with no unknown token
 * (it spells every word), a subword vocabulary (most entries are pieces, not words) or a larger
 * one, which the page would not list.
 */
export function vocabulary(tokenizer: Tokenizer): string[] | null {
  if (tokenizer.model?.unk_token_id === undefined) return null;
  const vocab = tokenizer.get_vocab(false);
  if (vocab.size > MAX_VOCABULARY_SHOWN + 16) return null;
  // A word one can type is an entry that encodes, alone, to itself: special tokens ([PAD], [UNK],
  // <|endoftext|>) are split by the pre-tokenizer, and subword pieces (##ing) are not words.
  const words = [...vocab].filter(([w, id]) => {
    const ids = tokenizer.encode(w, { add_special_tokens: false }).ids;
    return ids.length === 1 && ids[0] === id;
  });
  if (words.length > MAX_VOCABULARY_SHOWN || words.length < vocab.size / 2) return null;
  return words.map(([w]) => w).sort();
}

/** A tokenizer.json as tokenizers.js reads it (a WordLevel model as WordPiece, `compatible`). */
export function readTokenizer(json: unknown): Tokenizer {
  return new Tokenizer(compatible(json), {});
}

export class TextTower {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: InferenceSession,
    private readonly tokenizer: Tokenizer,
    private readonly spec: NonNullable<Manifest['text']>,
    private readonly ledger: ResourceLedger,
  ) {}

  static async create(
    ort: OrtModule,
    modelBytes: Uint8Array,
    tokenizerJson: unknown,
    spec: NonNullable<Manifest['text']>,
    backend: 'wasm' | 'cpu',
    ledger: ResourceLedger = new ResourceLedger(),
  ): Promise<TextTower> {
    // Errors name the file: tokenizers.js and onnxruntime name none ('Tokenizer must contain a
    // "decoder" property'; "Model data pointer is null." for an empty file).
    let tokenizer: Tokenizer;
    try {
      tokenizer = readTokenizer(tokenizerJson);
    } catch (e) {
      throw new Error(`${spec.tokenizer} is not a tokenizer this app can read: ${(e as Error).message}`, { cause: e });
    }
    if (modelBytes.byteLength === 0) throw new Error(`${spec.model.path} (the text encoder) is empty (0 bytes)`);
    let session: InferenceSession;
    try {
      session = await ortQueue.run(() => ort.InferenceSession.create(modelBytes, { executionProviders: [backend] }));
    } catch (e) {
      throw new Error(`onnxruntime could not load ${spec.model.path} (the text encoder): ${ortMessage(e)}`, { cause: e });
    }
    ledger.acquire('text-session');
    const tower = new TextTower(ort, session, tokenizer, spec, ledger);
    // The manifest's names are checked now, at load: a wrong one used to fail only later, when the
    // user typed labels, long after the pair was accepted.
    const problems = [
      session.inputNames.includes(spec.input) ? null : `has no input '${spec.input}' (its inputs: ${session.inputNames.join(', ')})`,
      session.outputNames.includes(spec.output) ? null : `has no output '${spec.output}' (its outputs: ${session.outputNames.join(', ')})`,
    ].filter(Boolean);
    if (problems.length > 0) {
      await tower.release();
      throw new Error(`the text encoder ${problems.join(' and ')}, as text.input and text.output in the manifest say it should`);
    }
    return tower;
  }

  unknownWords(labels: readonly string[]): string[] {
    return unknownWords(this.tokenizer, labels);
  }

  vocabulary(): string[] | null {
    return vocabulary(this.tokenizer);
  }

  tokenize(texts: readonly string[]): BigInt64Array {
    const L = this.spec.contextLength;
    const ids = new BigInt64Array(texts.length * L).fill(BigInt(this.spec.padId));
    texts.forEach((t, i) => {
      let enc = this.tokenizer.encode(t).ids;
      // tokenizers.js ignores tokenizer.json's truncation: keep the end token in the last slot,
      // where CLIP's text tower reads the sentence embedding (as open_clip.tokenize does).
      if (enc.length > L) enc = [...enc.slice(0, L - 1), enc[enc.length - 1]!];
      for (let j = 0; j < enc.length; j++) ids[i * L + j] = BigInt(enc[j]!);
    });
    return ids;
  }

  /** Unnormalised text embeddings, [texts.length, D]. */
  async encode(texts: readonly string[]): Promise<{ data: Float32Array; dim: number }> {
    const ids = this.tokenize(texts);
    const out = await ortQueue.run(() =>
      this.session.run({ [this.spec.input]: new this.ort.Tensor('int64', ids, [texts.length, this.spec.contextLength]) }),
    );
    const t = out[this.spec.output]!;
    if (t.dims.length !== 2 || t.dims[0] !== texts.length || t.type !== 'float32') {
      throw new Error(
        `the text encoder's output '${this.spec.output}' is ${t.type}[${t.dims.join(', ')}] for ${texts.length} prompt(s), not float32[${texts.length}, D]`,
      );
    }
    return { data: t.data as Float32Array, dim: t.dims[1]! };
  }

  /**
   * The zero-shot head the wise-ft way: per class, every template's embedding L2-normalised,
   * averaged, renormalised; times the logit scale. Returns [classes, D], row-major.
   */
  async zeroShotHead(
    classes: readonly string[],
    templates: readonly string[],
    logitScale: number,
  ): Promise<{ weight: Float32Array; dim: number }> {
    const texts = classes.flatMap((c) => templates.map((t) => t.replaceAll('{}', c)));
    const { data, dim } = await this.encode(texts);
    const weight = new Float32Array(classes.length * dim);
    for (let c = 0; c < classes.length; c++) {
      const acc = new Float64Array(dim);
      for (let t = 0; t < templates.length; t++) {
        const row = (c * templates.length + t) * dim;
        let n = 0;
        for (let d = 0; d < dim; d++) n += data[row + d]! ** 2;
        n = Math.sqrt(n) || 1;
        for (let d = 0; d < dim; d++) acc[d]! += data[row + d]! / n;
      }
      let n = 0;
      for (let d = 0; d < dim; d++) n += acc[d]! ** 2;
      n = Math.sqrt(n) || 1;
      for (let d = 0; d < dim; d++) weight[c * dim + d] = (logitScale * acc[d]!) / n;
    }
    return { weight, dim };
  }

  async release(): Promise<void> {
    await ortQueue.run(() => this.session.release());
    this.ledger.release('text-session');
  }
}

/** logits = embedding · headᵀ for a batch of (already normalised) image embeddings. */
export function applyHead(embedding: Float32Array, n: number, head: Float32Array, classes: number, dim: number): Float32Array {
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += embedding[i * dim + d]! * head[c * dim + d]!;
      out[i * classes + c] = s;
    }
  }
  return out;
}

export function softmax(logits: Float32Array, n: number, classes: number): Float32Array {
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let c = 0; c < classes; c++) m = Math.max(m, logits[i * classes + c]!);
    let s = 0;
    for (let c = 0; c < classes; c++) s += out[i * classes + c] = Math.exp(logits[i * classes + c]! - m);
    for (let c = 0; c < classes; c++) out[i * classes + c]! /= s;
  }
  return out;
}
