// Node-only: a pair bundle in a folder on disk (CLI, tests). Never imported by browser code.
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { BundleError, urlSource, type BundleSource } from '../core/bundle/source';
import { isSafeRelativePath } from '../core/onnx/model';

export function dirSource(dir: string): BundleSource {
  const root = resolve(dir);
  return {
    label: root,
    async read(path) {
      if (!isSafeRelativePath(path)) throw new BundleError(`refusing to read '${path}': not a path inside the bundle`);
      const full = resolve(root, path);
      if (!full.startsWith(root + sep)) throw new BundleError(`refusing to read '${path}': outside the bundle folder`);
      try {
        return new Uint8Array(await readFile(full));
      } catch (e) {
        throw new BundleError(`could not read ${full}: ${(e as Error).message}`);
      }
    },
  };
}

/** A folder path, or an http(s) URL of a manifest.json. */
export function sourceFor(pair: string): BundleSource {
  if (/^https?:\/\//.test(pair)) return urlSource(pair);
  return dirSource(pair.endsWith('manifest.json') ? resolve(pair, '..') : pair);
}
