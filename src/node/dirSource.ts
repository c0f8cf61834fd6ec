// Node-only: a pair bundle in a folder on disk, or zipped in one file (CLI, tests). Never imported by browser code.
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, resolve, sep } from 'node:path';
import { BundleError, filesSource, requireBundlePath, urlSource, type BundleSource } from '../core/bundle/source';
import { DEFAULT_LIMITS, type NetLimits } from '../core/bundle/net';
import { BUNDLE_ZIP_LIMITS, unzipBundle, zipHoldsBundle } from '../core/bundle/zip';

export function dirSource(dir: string, limits: Partial<NetLimits> = {}): BundleSource {
  const root = resolve(dir);
  const max = { ...DEFAULT_LIMITS, ...limits };
  // The folder's own real path: a bundle folder reached through a link is fine, a file inside it
  // that links out of it is not.
  let realRoot: string | null = null;
  return {
    label: root,
    async read(path, _onProgress, expected) {
      requireBundlePath(path);
      const full = resolve(root, path);
      if (!full.startsWith(root + sep)) throw new BundleError(`refusing to read '${path}': outside the bundle folder`);
      try {
        realRoot ??= await realpath(root);
        return await readInside(realRoot, full, path, expected, max);
      } catch (e) {
        throw readError(full, e);
      }
    },
  };
}

/** The file at `full`, if it really lies in the folder, is a regular file and has the size it should. */
async function readInside(
  realRoot: string,
  full: string,
  path: string,
  expected: { bytes?: number | undefined } | undefined,
  max: NetLimits,
): Promise<Uint8Array> {
  // A symlink (or a linked folder on the way) can point anywhere on disk: what is read must
  // really lie inside the bundle folder, as a URL bundle's files must lie on its origin.
  const real = await realpath(full);
  if (!real.startsWith(realRoot + sep)) throw new BundleError(`refusing to read ${full}: it links to ${real}, outside the bundle folder`);
  // Sizes before reading: a FIFO would block forever, /dev/zero or a sparse file has no end
  // worth reading; the same per-file limits as a download.
  const st = await stat(real);
  if (!st.isFile()) throw new BundleError(`refusing to read ${full}: not a regular file`);
  const cap = path === 'manifest.json' ? max.maxManifestBytes : max.maxFileBytes;
  if (expected?.bytes !== undefined && st.size !== expected.bytes)
    throw new BundleError(`${full} has ${st.size} bytes but the manifest says ${expected.bytes}: the file is incomplete or was replaced`);
  if (st.size > cap)
    throw new BundleError(
      `${full} is ${st.size} bytes, over the limit of ${cap} bytes per ${path === 'manifest.json' ? 'manifest' : 'file'}`,
    );
  return new Uint8Array(await readFile(real));
}

/** A file system error in words a user can act on; a BundleError as it is. */
function readError(full: string, e: unknown): BundleError {
  if (e instanceof BundleError) return e;
  const code = (e as { code?: string }).code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'ELOOP'
          ? 'a loop of symbolic links'
          : (e as Error).message;
  return new BundleError(`could not read ${full}: ${why}`);
}

/** A folder path, or an http(s) URL of a manifest.json. */
export function sourceFor(pair: string): BundleSource {
  if (/^https?:\/\//.test(pair)) return urlSource(pair);
  return dirSource(pair.endsWith('manifest.json') ? resolve(pair, '..') : pair);
}

/**
 * A bundle zipped in one file on disk (what the page's "Download the bundle with it" writes),
 * unpacked in memory by the page's own reader: the same size limits, paths kept inside the folder,
 * and manifest.json at the zip's top or in its one folder.
 */
export async function zipFileSource(path: string, limits = BUNDLE_ZIP_LIMITS): Promise<BundleSource> {
  const full = resolve(path);
  let bytes: Uint8Array;
  try {
    const st = await stat(full);
    if (!st.isFile()) throw new BundleError(`${full} is not a regular file`);
    // Sizes before reading, as for a folder's files: the whole zip is held in memory.
    if (st.size > limits.totalBytes)
      throw new BundleError(`${full} is ${st.size} bytes, over the limit of ${limits.totalBytes} bytes for a bundle zip`);
    bytes = new Uint8Array(await readFile(full));
  } catch (e) {
    if (e instanceof BundleError) throw e;
    const code = (e as { code?: string }).code;
    throw new BundleError(`could not read ${full}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>]);
  const files = await unzipBundle([{ path: basename(full), blob }], limits).catch((e: unknown) => {
    throw new BundleError(`${full}: ${(e as Error).message}`);
  });
  if (!(await zipHoldsBundle(blob)))
    throw new BundleError(
      `${full} is a zip without manifest.json at its top or in its one folder: not a pair bundle (zip the bundle's folder)`,
    );
  return { ...filesSource(files), label: full };
}

/** sourceFor, and a path ending in .zip as a zipped bundle. */
export async function pairSource(pair: string): Promise<BundleSource> {
  return /\.zip$/i.test(pair) && !/^https?:\/\//.test(pair) ? zipFileSource(pair) : sourceFor(pair);
}
