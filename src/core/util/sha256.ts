// SHA-256 fed a chunk at a time. crypto.subtle.digest takes a whole buffer only (and copies it), and
// a checkpoint streamed into the blend memory is never whole: its sha256 (the manifest's check and
// the content hash) is taken here as its chunks pass. hash-wasm's compiled SHA-256 runs at about
// twice the speed of the hand-written one it replaced (351–416 against 163–187 MiB/s), and its wasm
// is embedded in its JavaScript, so it loads wherever the core runs (page, Worker, Node) with no
// file to serve; the Content-Security-Policy allows wasm ('wasm-unsafe-eval', as onnxruntime needs).
import { createSHA256, type IHasher } from 'hash-wasm';

export class Sha256 {
  private finished = false;

  private constructor(private readonly hasher: IHasher) {}

  /** A fresh hash; async because the first one compiles hash-wasm's module (later ones reuse it). */
  static async create(): Promise<Sha256> {
    return new Sha256(await createSHA256());
  }

  update(bytes: Uint8Array): this {
    if (this.finished) throw new Error('sha256: update after digest');
    this.hasher.update(bytes);
    return this;
  }

  /** The digest as 64 hex digits, as sha256Hex gives it; the hash takes no more input after. */
  hex(): string {
    if (this.finished) throw new Error('sha256: digest taken twice');
    this.finished = true;
    return this.hasher.digest('hex');
  }
}
