// "Bring your own eval sets": a folder laid out <set>/<class>/<image> (or a zip of one). Each
// top-level folder is a set; class folder names are matched to the pair's classes; a set that
// uses only some classes is scored over that subset (logits masked, as wise-ft does for
// ImageNet-R and -A).
import { unzipSync } from 'fflate';
import { isSafeRelativePath } from '../bundle/paths';
import { setIdProblem, SET_ID_RULE } from './ids';

export class EvalFolderError extends Error {
  override name = 'EvalFolderError';
}

export const IMAGE_FILE = /\.(png|jpe?g|gif|webp|bmp|avif)$/i;

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
  const images = paths
    .map((p) => p.replace(/\\/g, '/').replace(/^\/+/, ''))
    .filter((p) => IMAGE_FILE.test(p) && !p.split('/').some((s) => s.startsWith('.')));
  if (images.length === 0)
    throw new EvalFolderError('no images found: expected a folder laid out <set>/<class>/<image>, e.g. photos/cat/001.jpg');
  const parts = layoutParts(images);
  const byName = new Map(classes.map((c, i) => [normalizeClassName(c), i]));
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
  if (unknown.size > 0) throw unknownClasses(unknown, classes);
  return inPlanOrder([...sets.values()], classes.length);
}

/** Each image path's segments, a single wrapping folder (the dropped root) stripped when every path
 * shares it; checked to be <set>/<class>/<image> with a valid set id. */
function layoutParts(images: string[]): string[][] {
  let parts = images.map((p) => p.split('/'));
  while (parts.every((x) => x.length > 3) && new Set(parts.map((x) => x[0])).size === 1) parts = parts.map((x) => x.slice(1));
  const shallow = parts.filter((x) => x.length < 3);
  if (shallow.length > 0) {
    throw new EvalFolderError(
      `'${shallow[0]!.join('/')}' is not inside a <set>/<class>/ folder: expected <set>/<class>/<image> (e.g. sketches/dog/1.png), with one folder per class inside each set`,
    );
  }
  // Set folder names become set ids: checked before anything is keyed by them.
  for (const x of parts) {
    const problem = setIdProblem(x[x.length - 3]!);
    if (problem) throw new EvalFolderError(`the set folder ${problem}: set folders need ${SET_ID_RULE}`);
  }
  return parts;
}

function unknownClasses(unknown: Set<string>, classes: readonly string[]): EvalFolderError {
  const list = [...unknown]
    .slice(0, 5)
    .map((c) => `'${c}'`)
    .join(', ');
  return new EvalFolderError(
    `${unknown.size} class folder${unknown.size > 1 ? 's' : ''} (${list}${unknown.size > 5 ? ', …' : ''}) match none of the pair's ${classes.length} classes (e.g. ${classes.slice(0, 4).join(', ')}); the layout is <set>/<class>/<image>, with class folders named after the pair's classes`,
  );
}

/** 'reference' first, then by id; files by path; the class subset where a set lacks classes. */
function inPlanOrder(sets: FolderSetPlan[], classCount: number): FolderSetPlan[] {
  const out = sets.sort((a, b) => (a.id === 'reference' ? -1 : b.id === 'reference' ? 1 : a.id.localeCompare(b.id)));
  for (const s of out) {
    s.files.sort((a, b) => a.path.localeCompare(b.path));
    const used = [...new Set(s.files.map((f) => f.label))].sort((a, b) => a - b);
    s.classSubset = used.length < classCount ? used : null;
  }
  return out;
}

export interface ZipLimits {
  /** The most one entry may unpack to (as its header declares). */
  entryBytes: number;
  /** The most all the image entries together may unpack to. */
  totalBytes: number;
}

/** An image file over 100 MB is no eval image; 1 GB of them is more than a page can hold decoded. */
export const ZIP_LIMITS: ZipLimits = { entryBytes: 100 * 2 ** 20, totalBytes: 2 ** 30 };

const mb = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GB` : `${(n / 2 ** 20).toFixed(1)} MB`);
export const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
export const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;

/**
 * The zip's central directory read from its end: the entry count the end record declares, and the
 * name and declared unpacked size of every entry header really there. A zip of more than 65,535
 * entries written without ZIP64 declares the count modulo 65,536: read as declared, 100,000 images
 * would silently become 34,464.
 */
function centralDirectory(b: Uint8Array): { declared: number; entries: { name: string; size: number; packed: number }[] } | null {
  let e = b.length - 22;
  while (e >= 0 && u32(b, e) !== 0x06054b50) {
    if (b.length - e > 65_557) return null;
    e--;
  }
  if (e < 0) return null;
  let declared = u16(b, e + 10);
  let offset = u32(b, e + 16);
  if (e >= 20 && u32(b, e - 20) === 0x07064b50) {
    const z = u32(b, e - 12);
    if (z + 56 <= b.length && u32(b, z) === 0x06064b50) {
      declared = u32(b, z + 32) + u32(b, z + 36) * 2 ** 32;
      offset = u32(b, z + 48) + u32(b, z + 52) * 2 ** 32;
    }
  }
  const entries: { name: string; size: number; packed: number }[] = [];
  const utf8 = new TextDecoder();
  const latin1 = new TextDecoder('latin1');
  for (let o = offset; o + 46 <= b.length && u32(b, o) === 0x02014b50;) {
    const nameLen = u16(b, o + 28);
    const extraLen = u16(b, o + 30);
    const raw = b.subarray(o + 46, o + 46 + nameLen);
    let size = u32(b, o + 24);
    if (size === 0xffffffff) {
      // ZIP64: the real size is the first field of the extra block 0x0001.
      size = Infinity;
      for (let x = o + 46 + nameLen; x + 4 <= o + 46 + nameLen + extraLen; x += 4 + u16(b, x + 2)) {
        if (u16(b, x) === 1 && x + 12 <= b.length) size = u32(b, x + 4) + u32(b, x + 8) * 2 ** 32;
      }
    }
    entries.push({ name: (u16(b, o + 8) & 0x800 ? utf8 : latin1).decode(raw), size, packed: u32(b, o + 20) });
    o += 46 + nameLen + extraLen + u16(b, o + 32);
  }
  return { declared, entries };
}

const isImageEntry = (name: string) => IMAGE_FILE.test(name) && !name.split('/').some((s) => s.startsWith('.'));

function entryCountError(found: number, declared: number): EvalFolderError {
  return new EvalFolderError(
    found > declared && found > 0xffff
      ? `the zip holds ${found.toLocaleString('en')} entries but its end record says ${declared.toLocaleString('en')}: it was written without ZIP64, which more than 65,535 entries need. Re-create it with ZIP64 (e.g. 'zip -r', 7-Zip or Python's zipfile) or drop the folder itself`
      : `the zip's end record says ${declared.toLocaleString('en')} entries but its central directory holds ${found.toLocaleString('en')}: the file is damaged`,
  );
}

/** Counts declared sizes against the limits, per entry and in total; throws at the first excess. */
function unpackBudget(limits: ZipLimits, noun: string): (name: string, size: number, packed: number) => void {
  let total = 0;
  return (name, size, packed) => {
    if (size > limits.entryBytes) {
      throw new EvalFolderError(
        `the zip entry '${name}' unpacks to ${mb(size)} (from ${mb(packed)} compressed), more than the ${mb(limits.entryBytes)} one ${noun} may take: refused without unpacking`,
      );
    }
    total += size;
    if (total > limits.totalBytes)
      throw new EvalFolderError(
        `the zip's ${noun}s unpack to more than ${mb(limits.totalBytes)}: refused without unpacking (use fewer or smaller ${noun}s)`,
      );
  };
}

/** Which entries a zip is read for, and the word its messages use for one of them. */
export interface ZipSelection {
  keep(name: string): boolean;
  noun: string;
}

const EVAL_IMAGES: ZipSelection = { keep: isImageEntry, noun: 'image' };

/**
 * The image entries of a zip. Everything is decided from the zip's headers before anything is
 * inflated: an entry count that disagrees with the central directory is an error, not a partial
 * set; an entry, or all of them together, declaring more than the limits is refused (fflate
 * inflates into a buffer of the declared size, so a lying entry is cut short, not grown); paths
 * that would leave the folder (zip slip) are refused; entries `keep` leaves out (by default those
 * that are not images) are skipped unread.
 */
export function unzipEntries(
  bytes: Uint8Array,
  limits: ZipLimits = ZIP_LIMITS,
  { keep, noun }: ZipSelection = EVAL_IMAGES,
): Map<string, Uint8Array> {
  const dir = centralDirectory(bytes);
  if (dir && dir.entries.length !== dir.declared) throw entryCountError(dir.entries.length, dir.declared);
  // Every budget is checked from the headers before the first byte is inflated.
  const headerBudget = unpackBudget(limits, noun);
  for (const f of dir?.entries ?? []) {
    if (!f.name.endsWith('/') && keep(f.name)) headerBudget(f.name, f.size, f.packed);
  }
  const budget = unpackBudget(limits, noun);
  const out = new Map<string, Uint8Array>();
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (f) => {
        if (f.name.endsWith('/')) return false;
        if (!isSafeRelativePath(f.name)) throw new EvalFolderError(`the zip contains '${f.name}', a path outside its folder: refused`);
        if (!keep(f.name)) return false;
        budget(f.name, f.originalSize, f.size);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof EvalFolderError) throw e;
    throw new EvalFolderError(`not a readable zip file (${(e as Error).message})`);
  }
  for (const name of Object.keys(entries)) out.set(name, entries[name]!);
  return out;
}

/** Decoded eval images are kept at the model's input size: 1 GB of them (about 7,000 at 224px). */
export const MAX_EVAL_PIXEL_BYTES = 2 ** 30;

/**
 * Refuses, before decoding any, more images than fit in memory at the model's input size (a
 * folder of 100,000 CLIP-sized images would need 15 GB), saying how many would fit.
 */
export function checkEvalImageCount(count: number, size: number, maxBytes = MAX_EVAL_PIXEL_BYTES): void {
  const per = size * size * 3;
  if (count * per > maxBytes) {
    throw new EvalFolderError(
      `these eval sets have ${count.toLocaleString('en')} images: at ${size}×${size} they would take ${mb(count * per)} in memory, more than the ${mb(maxBytes)} this page holds for them; use at most ${Math.floor(maxBytes / per).toLocaleString('en')} images`,
    );
  }
}
