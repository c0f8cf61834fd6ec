// A pair load whose checkpoints are never whole in memory: the small files are read as any load
// reads them, and the two checkpoints are handed to the engine as checked streams
// (BlendEngine.createFromStreams writes each weight straight into the blend memory). The content
// hash is known once the engine has read both to their ends.
import { DownloadError } from './net';
import {
  BundleError,
  CheckedReader,
  bundleOf,
  contentHash,
  laterSpritesOf,
  openManifest,
  readOthers,
  type BundleSource,
  type CheckedStream,
  type LoadedBundle,
  type LoadOptions,
  type LoadProgress,
} from './source';

export interface StreamedBundle extends Omit<LoadedBundle, 'zeroShot' | 'fineTuned' | 'bundleHash'> {
  /**
   * The checkpoints' chunks, zero-shot first, each checked against the manifest as it passes. The
   * first call's bytes count in the load's progress; a later one (the same pair on another engine)
   * reads them afresh, from the cache or the dropped files.
   */
  checkpoints(): [CheckedStream, CheckedStream];
  /** The content hash (LoadedBundle.bundleHash), once the last checkpoints given have been read to their ends. */
  contentHash(): Promise<string>;
  /** Both checkpoints read whole: for what needs their bytes (the lanes' copies), read only then. */
  readCheckpoints(): Promise<{ zeroShot: Uint8Array; fineTuned: Uint8Array }>;
  /** The two checkpoint files' declared bytes; null when the manifest does not say. */
  checkpointBytes: number | null;
}

/** A bundle as a load gives it: its checkpoints' bytes, or their streams. */
export type PairFiles = LoadedBundle | StreamedBundle;

export function isStreamed(b: PairFiles): b is StreamedBundle {
  return 'checkpoints' in b;
}

/** loadBundle, with the checkpoints left to `checkpoints()` instead of read. */
export async function loadBundleStreamed(
  source: BundleSource,
  onProgress?: (p: LoadProgress) => void,
  opts: LoadOptions = {},
): Promise<StreamedBundle> {
  const start = await openManifest(source, onProgress, opts);
  const others = await readOthers(start);
  const zs = start.manifest.models.zeroShot;
  const ft = start.member.model;
  let reader: CheckedReader | null = start.reader;
  let last: CheckedStream[] = [];
  const bundle: StreamedBundle = {
    ...bundleOf(start, others),
    checkpoints() {
      const r = reader ?? new CheckedReader(source, undefined, null);
      reader = null;
      last = [r.stream(zs.path, zs), r.stream(ft.path, ft)];
      return [last[0]!, last[1]!];
    },
    async contentHash() {
      const hashes = last.map((s) => s.sha256);
      if (last.length !== 2 || hashes.some((h) => h === null)) throw new Error('the checkpoints have not been read to their ends');
      return contentHash(start, hashes as string[], others);
    },
    async readCheckpoints() {
      const r = new CheckedReader(source, undefined, null);
      return { zeroShot: await r.read(zs.path, zs), fineTuned: await r.read(ft.path, ft) };
    },
    checkpointBytes: zs.bytes !== undefined && ft.bytes !== undefined ? zs.bytes + ft.bytes : null,
  };
  if (start.later) bundle.laterSprites = laterSpritesOf(start);
  return bundle;
}

/**
 * `build` on the streams; on its failure, a stream it left mid-file is read on, so that a file
 * that does not match its manifest (or passes the size limit, or whose transfer fails) fails with
 * those words, as when files were read whole before being parsed, not with what its bytes broke
 * in the ONNX reader. The transfers are stopped either way.
 */
export async function buildFromStreams<T>(
  streams: readonly CheckedStream[],
  build: (s: readonly CheckedStream[]) => Promise<T>,
): Promise<T> {
  try {
    return await build(streams);
  } catch (e) {
    if (!(e instanceof BundleError) && !(e instanceof DownloadError)) {
      for (const s of streams) {
        const failure = await s.settle();
        if (failure) throw failure;
      }
    }
    throw e;
  } finally {
    for (const s of streams) s.close();
  }
}
