import { folderOf, parseManifest, selectMember, UnknownMemberError, type Manifest, type MemberSpec } from './manifest';
import { parseResults, type ResultLine } from '../eval/results';
import { isSafeRelativePath } from './paths';
import { sha256Hex, combineHashes } from '../util/hash';
import { boundedFetch, boundedStream, DEFAULT_LIMITS, DownloadError, type BoundedFetchOptions, type NetLimits } from './net';
import { Sha256 } from '../util/sha256';

/** Where a bundle's files come from: a URL, dropped files, or a folder on disk (Node). */
export interface BundleSource {
  /** Human-readable origin for messages and the URL hash: a URL or "dropped files". */
  readonly label: string;
  /** The URL to keep in the share link, when the bundle came from one. */
  readonly url?: string;
  /** `expected.bytes`, the size the manifest declares: a source that streams stops as soon as a file passes it. */
  read(
    path: string,
    onProgress?: (loaded: number, total: number | null) => void,
    expected?: { bytes?: number | undefined },
  ): Promise<Uint8Array>;
  /**
   * The file's chunks as they arrive, for a checkpoint that must never be whole in memory (the
   * engine writes each weight straight into its blend memory). Nothing is read until the chunks
   * are asked for. Absent: the file is read whole and given as one chunk.
   */
  stream?(path: string, onProgress?: (loaded: number, total: number | null) => void, expected?: Expected): FileStream;
  /** Reads past any cache: for a cached file that no longer matches its manifest (the bundle changed). */
  reread?(
    path: string,
    onProgress?: (loaded: number, total: number | null) => void,
    expected?: { bytes?: number | undefined },
  ): Promise<Uint8Array>;
}

/** A file's chunks; each is valid until the next is asked for (a reused buffer). */
export interface FileStream {
  chunks: AsyncIterable<Uint8Array>;
  /** The bytes' sha256, once the last chunk has been given, where the source takes it anyway (the cache); absent, the reader hashes them. */
  sha256?: () => string;
}

export class BundleError extends Error {
  override name = 'BundleError';
}

/** Every source refuses, before any read, a path a manifest could use to leave the bundle's folder. */
export function requireBundlePath(path: string): void {
  if (!isSafeRelativePath(path)) throw new BundleError(`refusing to read '${path}': not a path inside the bundle`);
}

export interface LoadedBundle {
  manifest: Manifest;
  source: BundleSource;
  zeroShot: Uint8Array;
  /** The fine-tuned member this load blends with the zero-shot model (v1: its one fine-tuned model). */
  member: MemberSpec;
  /** That member's checkpoint: only the selected member is read (a CLIP member is hundreds of MB). */
  fineTuned: Uint8Array;
  /** Each checkpoint's external data files (models over 2 GB), by their ONNX location; empty for most pairs. */
  zeroShotExternal: Map<string, Uint8Array>;
  fineTunedExternal: Map<string, Uint8Array>;
  /** The member's recorded sweeps (wise-ft JSON lines), where the bundle has them. */
  sweeps: { weight: ResultLine[] | null; output: ResultLine[] | null };
  /** Why another member than the one asked for was opened (an unknown id with unknownMember 'default'). */
  memberNote: string | null;
  text: Uint8Array | null;
  tokenizer: unknown | null;
  /** PNG bytes of each eval set's sprite sheet, by set id (empty while `laterSprites` is pending). */
  sprites: Map<string, Uint8Array>;
  /**
   * Reads the sprite sheets a load with `evalImages: 'later'` left out, checked against the
   * manifest as a whole load checks them, with progress over the sheets alone.
   */
  laterSprites?: (onProgress?: (p: LoadProgress) => void) => Promise<Map<string, Uint8Array>>;
  /** sha256 over the manifest and every file: results are keyed by it. */
  bundleHash: string;
}

export interface LoadProgress {
  file: string;
  loaded: number;
  total: number | null;
  /** Bytes of the whole bundle loaded so far, and its size when the manifest says. */
  bundleLoaded: number;
  bundleTotal: number | null;
  /** On a stream's last report, sent after its call has returned (the eval images read later): read whole, or failed. */
  ended?: 'done' | 'failed';
}

// Its home is util/hash; src/worker/cache.ts and older tests import it from here.
export { sha256Hex };

export interface LoadOptions {
  /** The fine-tuned member to blend with (default: the first). */
  member?: string | null;
  /** An id the bundle does not have: refused (the CLI) or the first member opened with a note (a shared link). */
  unknownMember?: 'error' | 'default';
  /**
   * 'later': the sprite sheets are left to `laterSprites` (the first screen needs the checkpoints
   * and the sweeps, not the eval images), where every sheet declares its sha256 and size, so the
   * content hash is known without them. Default 'now'.
   */
  evalImages?: 'now' | 'later';
}

/**
 * Fetches (or reads) the files of the bundle the selected member needs, checking sizes and hashes
 * the manifest declares. Other members' checkpoints are not read.
 */
export async function loadBundle(
  source: BundleSource,
  onProgress?: (p: LoadProgress) => void,
  opts: LoadOptions = {},
): Promise<LoadedBundle> {
  const start = await openManifest(source, onProgress, opts);
  const { manifest, member, reader } = start;
  const zeroShot = await reader.read(manifest.models.zeroShot.path, manifest.models.zeroShot);
  const fineTuned = await reader.read(member.model.path, member.model);
  const others = await readOthers(start);
  const checkpoints = await Promise.all([zeroShot, fineTuned].map((p) => reader.hashOf(p)));
  const bundle: LoadedBundle = {
    ...bundleOf(start, others),
    zeroShot,
    fineTuned,
    bundleHash: await contentHash(start, checkpoints, others),
  };
  if (start.later) bundle.laterSprites = laterSpritesOf(start);
  return bundle;
}

/** What every load reads first: the manifest, the member it picks, and a reader that checks and counts every file. */
export interface OpenedManifest {
  source: BundleSource;
  manifestBytes: Uint8Array;
  manifest: Manifest;
  member: MemberSpec;
  memberNote: string | null;
  /** Each eval set's sprite sheet, and whether they are left to `laterSprites`. */
  specs: ({ id: string } & FileSpec)[];
  later: boolean;
  reader: CheckedReader;
}

export async function openManifest(
  source: BundleSource,
  onProgress: ((p: LoadProgress) => void) | undefined,
  opts: LoadOptions,
): Promise<OpenedManifest> {
  const manifestBytes = await source.read('manifest.json');
  const manifest = parseManifest(manifestBytes);
  const { member, memberNote } = pickMember(manifest, opts);
  const specs = (manifest.eval?.sets ?? []).map((set) => ({ id: set.id, ...set.sprite }));
  const later = opts.evalImages === 'later' && specs.every((f) => f.sha256 !== undefined && f.bytes !== undefined);
  const reader = new CheckedReader(source, onProgress, declaredTotal(manifest, member, !later), manifestBytes.byteLength);
  return { source, manifestBytes, manifest, member, memberNote, specs, later, reader };
}

/** The files of a load besides the two checkpoints, each small or rare enough to read whole. */
export interface OtherFiles {
  zeroShotExternal: Map<string, Uint8Array>;
  fineTunedExternal: Map<string, Uint8Array>;
  sweeps: LoadedBundle['sweeps'];
  text: Uint8Array | null;
  tokenizer: unknown | null;
  sprites: Map<string, Uint8Array>;
}

export async function readOthers(start: OpenedManifest): Promise<OtherFiles> {
  const { manifest, member, reader } = start;
  const read = reader.read.bind(reader);
  const zeroShotExternal = await readExternal(manifest.models.zeroShot, read);
  const fineTunedExternal = await readExternal(member.model, read);
  // Sweeps are small and shown before any evaluation: read them with the checkpoints.
  const readSweep = async (f: FileSpec | undefined): Promise<ResultLine[] | null> =>
    f ? checkSweep(f.path, new TextDecoder().decode(await read(f.path, f)), manifest) : null;
  const sweeps = { weight: await readSweep(member.sweeps?.weight), output: await readSweep(member.sweeps?.output) };
  const { text, tokenizer } = manifest.text ? await readTextTower(manifest.text, read) : { text: null, tokenizer: null };
  const sprites = new Map<string, Uint8Array>();
  if (!start.later) for (const f of start.specs) sprites.set(f.id, await read(f.path, f));
  return { zeroShotExternal, fineTunedExternal, sweeps, text, tokenizer, sprites };
}

/** A loaded bundle's fields besides the checkpoints and the content hash. */
export function bundleOf(start: OpenedManifest, others: OtherFiles): Omit<LoadedBundle, 'zeroShot' | 'fineTuned' | 'bundleHash'> {
  const { manifest, source, member, memberNote } = start;
  return { manifest, source, member, memberNote, ...others };
}

/** The reader of the sheets a load left out, with progress over them alone. */
export function laterSpritesOf(start: OpenedManifest): NonNullable<LoadedBundle['laterSprites']> {
  return (onSheets) => readSprites(start.source, start.specs, onSheets);
}

/** sha256 over the manifest and every file, with the checkpoints' own hashes (zero-shot, fine-tuned): results are keyed by it. */
export async function contentHash(start: OpenedManifest, checkpoints: readonly string[], others: OtherFiles): Promise<string> {
  const { reader, manifest, member } = start;
  const text = others.text ? [await reader.hashOf(others.text)] : [];
  const hashes = [await reader.hashOf(start.manifestBytes), ...checkpoints, ...text];
  // A sheet read later must match the sha256 it declares (CheckedReader), so the hash is the same either way.
  hashes.push(
    ...(start.later ? start.specs.map((f) => f.sha256!) : await Promise.all([...others.sprites.values()].map((p) => reader.hashOf(p)))),
  );
  const external = [...others.zeroShotExternal.values(), ...others.fineTunedExternal.values()];
  hashes.push(...(await Promise.all(external.map((p) => reader.hashOf(p)))));
  // Results are keyed by this hash: with the member's id in it (v2), no point of one member can be
  // shown for another, even when two members' files are byte-identical. v1 keeps its old hash.
  if (manifest.format === 'wiseft-pair/2') hashes.push(`member:${member.id}`);
  return combineHashes(hashes);
}

/** The sprite sheets `specs` name, checked and with progress over them alone. */
async function readSprites(
  source: BundleSource,
  specs: ({ id: string } & FileSpec)[],
  onProgress?: (p: LoadProgress) => void,
): Promise<Map<string, Uint8Array>> {
  const reader = new CheckedReader(
    source,
    onProgress,
    specs.reduce((sum, f) => sum + (f.bytes ?? 0), 0),
  );
  const sprites = new Map<string, Uint8Array>();
  for (const f of specs) sprites.set(f.id, await reader.read(f.path, f));
  return sprites;
}

/** A checkpoint's external data files, checked like any file, by their path from the model's folder. */
async function readExternal(
  model: { path: string; externalData?: FileSpec[] | undefined },
  read: (path: string, expected?: Expected) => Promise<Uint8Array>,
): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const dir = folderOf(model.path);
  for (const f of model.externalData ?? []) files.set(f.path.slice(dir.length), await read(f.path, f));
  return files;
}

/**
 * Another member's checkpoint, checked against the manifest's size and sha256 as a load would
 * check it: for comparisons across members, without loading the member into an engine.
 */
export function readMemberModel(source: BundleSource, member: MemberSpec): Promise<Uint8Array> {
  return readListedFile(source, member.model);
}

/** Any file the manifest lists, checked against the size and sha256 it declares (when it does). */
export function readListedFile(source: BundleSource, file: FileSpec): Promise<Uint8Array> {
  return new CheckedReader(source, undefined, file.bytes ?? null).read(file.path, file);
}

/** What the manifest declares of a file: where it is, and the size and hash to check it against. */
export type FileSpec = { path: string; bytes?: number | undefined; sha256?: string | undefined };
export type Expected = Omit<FileSpec, 'path'>;

function pickMember(manifest: Manifest, opts: LoadOptions): { member: MemberSpec; memberNote: string | null } {
  try {
    return { member: selectMember(manifest, opts.member), memberNote: null };
  } catch (e) {
    if (!(e instanceof UnknownMemberError) || opts.unknownMember !== 'default') throw e;
    const member = selectMember(manifest, null);
    return { member, memberNote: `${e.message}; opened '${member.id}', the default` };
  }
}

/**
 * Bytes of the files this load reads as the manifest declares them, or null when a checkpoint's
 * size is not declared (checkpoints are nearly all of a load: without them a total means nothing).
 * A file with no declared size (the tokenizer, an older manifest's sprite sheet) joins the total
 * as it is read (CheckedReader), so the bar never shows more loaded than its total.
 */
function declaredTotal(manifest: Manifest, member: MemberSpec, withSprites: boolean): number | null {
  const external = [...(manifest.models.zeroShot.externalData ?? []), ...(member.model.externalData ?? [])].map((f) => f.bytes);
  const models = [manifest.models.zeroShot.bytes, member.model.bytes, ...external, ...(manifest.text ? [manifest.text.model.bytes] : [])];
  if (models.some((b) => b === undefined)) return null;
  const sheets = withSprites ? (manifest.eval?.sets ?? []).map((s) => s.sprite) : [];
  const small = [member.sweeps?.weight, member.sweeps?.output, ...sheets];
  return [...models, ...small.map((f) => f?.bytes)].reduce((sum: number, b) => sum + (b ?? 0), 0);
}

async function readTextTower(
  spec: NonNullable<Manifest['text']>,
  read: (path: string, expected?: Expected) => Promise<Uint8Array>,
): Promise<{ text: Uint8Array; tokenizer: unknown }> {
  const text = await read(spec.model.path, spec.model);
  const tok = await read(spec.tokenizer);
  try {
    return { text, tokenizer: JSON.parse(new TextDecoder().decode(tok)) };
  } catch {
    throw new BundleError(`${spec.tokenizer} is not valid JSON`);
  }
}

/**
 * Reads a bundle's files, checking each against the size and sha256 the manifest declares (once
 * more past any cache when one does not match), and reports progress over the whole bundle.
 */
export class CheckedReader {
  private done: number;
  /** Bytes read of files the manifest gives no size for: they are in the total once read. */
  private undeclared = 0;
  // Hashes already computed by the checks, reused for the content hash: a CLIP pair's files take
  // seconds to hash, and each needs hashing once.
  private readonly hashed = new WeakMap<Uint8Array, string>();

  constructor(
    private readonly source: BundleSource,
    private readonly onProgress: ((p: LoadProgress) => void) | undefined,
    private readonly declared: number | null,
    /** The manifest, read before the reader: counted on both sides. */
    manifestBytes = 0,
  ) {
    this.done = manifestBytes;
    if (this.declared !== null) this.declared += manifestBytes;
  }

  async read(path: string, expected?: Expected): Promise<Uint8Array> {
    const progress = this.progressOf(path, expected);
    let bytes = await this.source.read(path, progress, expected);
    let problem = await mismatch(path, bytes, expected);
    if (problem && this.source.reread) {
      bytes = await this.source.reread(path, progress, expected);
      problem = await mismatch(path, bytes, expected);
    }
    this.finished(bytes.byteLength, expected);
    if (problem) throw new BundleError(problem);
    if (expected?.sha256) this.hashed.set(bytes, expected.sha256);
    return bytes;
  }

  /**
   * The file's chunks, checked against the manifest as they pass: the size and sha256 at its end,
   * before the last read returns (bundle/streamed.ts). Nothing is read until they are asked for.
   */
  stream(path: string, expected?: Expected): CheckedStream {
    const progress = this.progressOf(path, expected);
    const file: FileStream = this.source.stream?.(path, progress, expected) ?? {
      chunks: (async function* (source) {
        yield await source.read(path, progress, expected);
      })(this.source),
    };
    return new CheckedStream(path, expected, file, (loaded) => this.finished(loaded, expected));
  }

  private progressOf(path: string, expected: Expected | undefined) {
    const sized = expected?.bytes !== undefined;
    return (loaded: number, total: number | null) => {
      const bundleLoaded = this.done + loaded;
      const pending = sized ? 0 : Math.max(loaded, total ?? 0);
      const bundleTotal = this.declared === null ? null : Math.max(this.declared + this.undeclared + pending, bundleLoaded);
      this.onProgress?.({ file: path, loaded, total, bundleLoaded, bundleTotal });
    };
  }

  private finished(bytes: number, expected: Expected | undefined): void {
    this.done += bytes;
    if (expected?.bytes === undefined) this.undeclared += bytes;
  }

  hashOf(bytes: Uint8Array): Promise<string> {
    const known = this.hashed.get(bytes);
    return known !== undefined ? Promise.resolve(known) : sha256Hex(bytes);
  }
}

/**
 * One file's chunks on their way to a reader that never holds the file whole, checked as they pass:
 * its sha256 is taken chunk by chunk (or given by the source, the cache), and its size and hash
 * are compared with the manifest's before the last read returns, so a consumer that reads to the
 * end never finishes on a file that does not match. The consumer cannot close it (a reader that
 * failed mid-file leaves the rest to `settle`); `close` does.
 */
export class CheckedStream implements AsyncIterable<Uint8Array> {
  private readonly it: AsyncIterator<Uint8Array>;
  /** Made at the first read (hash-wasm's is async), and only where the source does not give the sha256. */
  private hash: Promise<Sha256> | null = null;
  private loaded = 0;
  /** The file's sha256 once it has been read to its end and matched the manifest. */
  sha256: string | null = null;
  private ended = false;

  constructor(
    readonly path: string,
    private readonly expected: Expected | undefined,
    private readonly file: FileStream,
    private readonly onEnd: (bytes: number) => void,
  ) {
    this.it = file.chunks[Symbol.asyncIterator]();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return { next: () => this.next() };
  }

  async next(): Promise<IteratorResult<Uint8Array, undefined>> {
    if (this.ended) return { done: true, value: undefined };
    const hash = this.file.sha256 ? null : await (this.hash ??= Sha256.create());
    const r = await this.it.next();
    if (!r.done) {
      this.loaded += r.value.byteLength;
      hash?.update(r.value);
      return r;
    }
    this.ended = true;
    this.onEnd(this.loaded);
    const sha256 = this.file.sha256 ? this.file.sha256() : hash!.hex();
    const problem = sizeMismatch(this.path, this.loaded, this.expected) ?? shaMismatch(this.path, sha256, this.expected);
    if (problem) throw new BundleError(problem);
    this.sha256 = sha256;
    return { done: true, value: undefined };
  }

  /**
   * Reads what a consumer that failed mid-file left, so that the file is judged as a whole read
   * judges it, before its bytes are: a size or sha256 other than the manifest's, a file past the
   * size limit, a transfer that fails or is cancelled. That failure, or null when the file is
   * whole and matches (then what its bytes broke is the problem).
   */
  async settle(): Promise<Error | null> {
    if (this.ended) return null;
    try {
      while (!(await this.next()).done);
      return null;
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  }

  /** Stops the transfer (a download's socket) if it is still going. */
  close(): void {
    if (!this.ended) void this.it.return?.(undefined)?.catch(() => undefined);
    this.ended = true;
  }
}

// One hash per read: a CLIP checkpoint takes a second or more to hash.
async function mismatch(path: string, b: Uint8Array, expected: Expected | undefined): Promise<string | null> {
  return sizeMismatch(path, b.byteLength, expected) ?? (expected?.sha256 ? shaMismatch(path, await sha256Hex(b), expected) : null);
}

export function sizeMismatch(path: string, bytes: number, expected: Expected | undefined): string | null {
  return expected?.bytes !== undefined && bytes !== expected.bytes
    ? `${path} has ${bytes} bytes but the manifest says ${expected.bytes}: the download is incomplete or the file was replaced`
    : null;
}

export function shaMismatch(path: string, sha256: string, expected: Expected | undefined): string | null {
  return expected?.sha256 && sha256 !== expected.sha256
    ? `${path} does not match the sha256 in the manifest: the file is corrupt or was replaced`
    : null;
}

/** A recorded sweep must parse as wise-ft results and name at least one of the bundle's eval sets. */
function checkSweep(path: string, text: string, manifest: Manifest): ResultLine[] {
  let lines: ResultLine[];
  try {
    lines = parseResults(text);
  } catch (e) {
    throw new BundleError(`${path} is not a wise-ft results file: ${(e as Error).message}`);
  }
  const ids = (manifest.eval?.sets ?? []).map((s) => s.id);
  if (!lines.some((l) => ids.some((id) => typeof l[`${id}:top1`] === 'number'))) {
    throw new BundleError(`${path} has no accuracy for any of this bundle's eval sets (${ids.join(', ') || 'none'})`);
  }
  return lines;
}

/**
 * A bundle served over HTTP. Every file path is resolved against the manifest's URL and must stay
 * on the manifest's origin: a manifest cannot make the app fetch from anywhere the user did not
 * choose (redirects included). Downloads go through boundedFetch: sizes, timeouts and Cancel.
 */
export interface UrlSourceOptions {
  fetchImpl?: typeof fetch;
  /** The user's Cancel: aborts the download in progress. */
  signal?: AbortSignal;
  limits?: Partial<NetLimits>;
}

export function urlSource(manifestUrl: string, options: UrlSourceOptions | typeof fetch = {}): BundleSource {
  const given: UrlSourceOptions = typeof options === 'function' ? { fetchImpl: options } : options;
  const bundle = bundleUrl(manifestUrl, given);
  return {
    label: bundle.base.href,
    url: bundle.base.href,
    read: async (path, onProgress, expected) => {
      const { href, o } = requestFor(bundle, path, onProgress, expected);
      return boundedFetch(href, o);
    },
    stream: (path, onProgress, expected) => ({
      chunks: (async function* () {
        const { href, o } = requestFor(bundle, path, onProgress, expected);
        yield* boundedStream(href, o);
      })(),
    }),
  };
}

/** Where a URL bundle lives and how its files are fetched. */
interface UrlBundle {
  /** The manifest's URL. */
  base: URL;
  /** Its folder: every file must lie under it, on the same origin. */
  dir: URL;
  pageHref: string | undefined;
  given: UrlSourceOptions;
  limits: NetLimits;
}

function bundleUrl(manifestUrl: string, given: UrlSourceOptions): UrlBundle {
  // A relative URL is resolved against the page's address by the page (a Worker's location is its
  // script's); here it only serves Node callers and absolute URLs.
  const pageHref = (globalThis as { location?: { href: string } }).location?.href;
  let base: URL;
  try {
    base = new URL(manifestUrl, pageHref);
  } catch {
    throw new BundleError(`'${manifestUrl}' is not a URL`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new BundleError(`only http(s) URLs can be loaded, not '${base.protocol}'`);
  return { base, dir: new URL('.', base), pageHref, given, limits: { ...DEFAULT_LIMITS, ...given.limits } };
}

/** The URL of one of the bundle's files and boundedFetch's options for it (the manifest has its own limits). */
function requestFor(
  { base, dir, pageHref, given, limits }: UrlBundle,
  path: string,
  onProgress?: (loaded: number, total: number | null) => void,
  expected?: { bytes?: number | undefined },
): { href: string; o: BoundedFetchOptions } {
  requireBundlePath(path);
  const url = path === 'manifest.json' ? base : new URL(path, dir);
  if (url.origin !== base.origin || !url.pathname.startsWith(dir.pathname))
    throw new BundleError(`refusing to fetch ${url.href}: outside the bundle's folder`);
  const manifest = path === 'manifest.json';
  const o: BoundedFetchOptions = {
    ...(given.fetchImpl ? { fetchImpl: given.fetchImpl } : {}),
    ...(given.signal ? { signal: given.signal } : {}),
    ...(pageHref ? { pageHref } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(expected?.bytes !== undefined ? { expectedBytes: expected.bytes } : {}),
    ...(manifest ? { totalMs: limits.manifestMs } : {}),
    origin: base.origin,
    name: path,
    maxBytes: manifest ? limits.maxManifestBytes : limits.maxFileBytes,
    idleMs: limits.idleMs,
  };
  return { href: url.href, o };
}

/**
 * A bundle from files the user dropped or picked. Paths are matched on their ending so that a
 * dropped folder "my-pair/manifest.json" and loose files both work.
 */
export function filesSource(files: ReadonlyArray<{ path: string; blob: Blob }>, signal?: AbortSignal): BundleSource {
  const norm = (p: string) => p.replace(/\\/g, '/').replace(/^\.?\//, '');
  const manifests = files.filter((f) => norm(f.path).split('/').pop() === 'manifest.json');
  if (manifests.length === 0)
    throw new BundleError('no manifest.json among the dropped files: drop the whole pair folder (manifest.json and its .onnx files)');
  // The shallowest manifest is the bundle's root.
  const root = manifests.map((m) => norm(m.path)).sort((a, b) => a.split('/').length - b.split('/').length)[0]!;
  const prefix = root.slice(0, root.length - 'manifest.json'.length);
  const byPath = new Map(files.map((f) => [norm(f.path), f.blob]));
  const blobOf = (path: string): Blob => {
    requireBundlePath(path);
    const blob = byPath.get(prefix + norm(path));
    if (!blob) throw new BundleError(`the manifest needs '${path}', which is not among the dropped files`);
    return blob;
  };
  return {
    label: 'dropped files',
    async read(path) {
      return new Uint8Array(await blobOf(path).arrayBuffer());
    },
    stream: (path, onProgress) => ({ chunks: blobChunks(() => blobOf(path), onProgress, signal) }),
  };
}

/** Bytes a dropped file is read by: a slice at a time, never the file whole, and the Cancel heard between slices. */
const BLOB_SLICE = 1 << 20;

/**
 * A dropped file's chunks (slices of the Blob, read from disk or memory), with progress and the
 * user's Cancel between chunks. Slices of its known size rather than blob.stream(): in Chromium a
 * member switch on a dropped zip's files stalled for minutes with its zero-shot file read to the
 * last byte and the member's not begun (tests/browser/finetune-pause-export.browser.test.ts),
 * which a read that ends by the size, not by the byte stream's end signal, cannot do.
 */
async function* blobChunks(
  blobOf: () => Blob,
  onProgress?: (loaded: number, total: number | null) => void,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const blob = blobOf();
  for (let loaded = 0; loaded < blob.size;) {
    if (signal?.aborted) throw new DownloadError('the load was cancelled', 'cancelled');
    const chunk = new Uint8Array(await blob.slice(loaded, loaded + BLOB_SLICE).arrayBuffer());
    if (signal?.aborted) throw new DownloadError('the load was cancelled', 'cancelled');
    if (chunk.byteLength === 0)
      throw new BundleError(`a dropped file ended at byte ${loaded} of ${blob.size}: it changed while it was read`);
    loaded += chunk.byteLength;
    onProgress?.(loaded, blob.size);
    yield chunk;
  }
}
