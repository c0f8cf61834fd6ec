// "Bring your own eval sets": a folder laid out <set>/<class>/<image> (or a zip of one). Each
// top-level folder is a set; class folder names are matched to the pair's classes; a set that
// uses only some classes is scored over that subset (logits masked, as wise-ft does for
// ImageNet-R and -A).
import { unzipSync } from 'fflate';
import { isSafeRelativePath } from '../onnx/model';

export class EvalFolderError extends Error {
  override name = 'EvalFolderError';
}

const IMAGE = /\.(png|jpe?g|gif|webp|bmp|avif)$/i;

export function normalizeClassName(name: string): string {
  return name.toLowerCase().replace(/[_-]+/g, ' ').replace(/\s+/g, ' ').trim();
}

export interface FolderSetPlan {
  id: string;
  files: { path: string; label: number }[];
  /** Class indices present, when fewer than all the pair's classes. */
  classSubset: number[] | null;
}

/**
 * Plans eval sets from relative paths. The reference is `reference` if named, else the first set in
 * alphabetical order (the UI lets the user pick another). Errors say what layout was expected.
 */
export function planEvalFolder(paths: readonly string[], classes: readonly string[]): FolderSetPlan[] {
  const byName = new Map(classes.map((c, i) => [normalizeClassName(c), i]));
  const images = paths.map((p) => p.replace(/\\/g, '/').replace(/^\/+/, '')).filter((p) => IMAGE.test(p) && !p.split('/').some((s) => s.startsWith('.')));
  if (images.length === 0) throw new EvalFolderError('no images found: expected a folder laid out <set>/<class>/<image>, e.g. photos/cat/001.jpg');
  // A single wrapping folder (the dropped root) is stripped when every path shares it.
  let parts = images.map((p) => p.split('/'));
  while (parts.every((x) => x.length > 3) && new Set(parts.map((x) => x[0])).size === 1) parts = parts.map((x) => x.slice(1));
  const shallow = parts.filter((x) => x.length < 3);
  if (shallow.length > 0) {
    throw new EvalFolderError(`'${shallow[0]!.join('/')}' is not inside a <set>/<class>/ folder: expected <set>/<class>/<image> (e.g. sketches/dog/1.png), with one folder per class inside each set`);
  }
  const sets = new Map<string, FolderSetPlan>();
  const unknown = new Set<string>();
  parts.forEach((x, i) => {
    const [set, cls] = [x[x.length - 3]!, x[x.length - 2]!];
    const label = byName.get(normalizeClassName(cls));
    if (label === undefined) {
      unknown.add(cls);
      return;
    }
    let s = sets.get(set);
    if (!s) sets.set(set, (s = { id: set, files: [], classSubset: null }));
    s.files.push({ path: images[i]!, label });
  });
  if (unknown.size > 0) {
    const list = [...unknown].slice(0, 5).map((c) => `'${c}'`).join(', ');
    throw new EvalFolderError(`${unknown.size} class folder${unknown.size > 1 ? 's' : ''} (${list}${unknown.size > 5 ? ', …' : ''}) match none of the pair's ${classes.length} classes (e.g. ${classes.slice(0, 4).join(', ')}); the layout is <set>/<class>/<image>, with class folders named after the pair's classes`);
  }
  const out = [...sets.values()].sort((a, b) => (a.id === 'reference' ? -1 : b.id === 'reference' ? 1 : a.id.localeCompare(b.id)));
  for (const s of out) {
    s.files.sort((a, b) => a.path.localeCompare(b.path));
    const used = [...new Set(s.files.map((f) => f.label))].sort((a, b) => a - b);
    s.classSubset = used.length < classes.length ? used : null;
  }
  return out;
}

/** Entries of a zip, refusing paths that would leave the folder (zip slip) and bounding its size. */
export function unzipEntries(bytes: Uint8Array, maxBytes = 2 ** 31): Map<string, Uint8Array> {
  let total = 0;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (f) => {
        if (f.name.endsWith('/')) return false;
        if (!isSafeRelativePath(f.name)) throw new EvalFolderError(`the zip contains '${f.name}', a path outside its folder: refused`);
        total += f.originalSize;
        if (total > maxBytes) throw new EvalFolderError('the zip unpacks to more than 2 GB: refused');
        return true;
      },
    });
  } catch (e) {
    if (e instanceof EvalFolderError) throw e;
    throw new EvalFolderError(`not a readable zip file (${(e as Error).message})`);
  }
  return new Map(Object.entries(entries));
}
