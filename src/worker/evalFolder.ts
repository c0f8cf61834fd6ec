// The user's own eval sets from a dropped <set>/<class>/<image> folder or a zip of one, decoded to
// the model's input in the Worker. Undecodable files are skipped and named, not fatal.
import type { UserEvalSet } from '../core/explorer';
import { planEvalFolder, unzipEntries, checkEvalImageCount, ZIP_LIMITS, type FolderSetPlan } from '../core/eval/folder';
import { decodeToModelInput } from './decode';
import type { PathBlob } from './protocol';

export interface IngestedFolder {
  sets: UserEvalSet[];
  skipped: string[];
}

export async function ingestEvalFolder(
  files: PathBlob[],
  pair: { classes: string[]; inputSize: number },
  reference: string | null,
  onProgress: (done: number, total: number) => void,
): Promise<IngestedFolder> {
  const entries = await unzipIfZip(files);
  const plan = planEvalFolder(
    entries.map((f) => f.path),
    pair.classes,
  );
  const byPath = new Map(entries.map((f) => [f.path.replace(/\\/g, '/').replace(/^\/+/, ''), f.blob]));
  const refId = reference && plan.some((s) => s.id === reference) ? reference : plan[0]!.id;
  const total = plan.reduce((n, s) => n + s.files.length, 0);
  checkEvalImageCount(total, pair.inputSize);
  let done = 0;
  const skipped: string[] = [];
  const sets: UserEvalSet[] = [];
  for (const s of plan) {
    const set = await decodeSet(s, byPath, pair.inputSize, skipped, () => onProgress(++done, total));
    if (set.images.length > 0)
      sets.push({ ...set, id: s.id, name: s.id, role: s.id === refId ? 'reference' : 'shift', classSubset: s.classSubset });
  }
  if (!sets.some((x) => x.role === 'reference')) throw new Error(`no image of the reference set '${refId}' could be decoded`);
  return { sets, skipped };
}

async function unzipIfZip(files: PathBlob[]): Promise<PathBlob[]> {
  if (files.length !== 1 || !/\.zip$/i.test(files[0]!.path)) return files;
  const zip = files[0]!.blob;
  // The zip itself is read whole (its central directory is at the end): bounded like what it unpacks to.
  if (zip.size > ZIP_LIMITS.totalBytes)
    throw new Error(
      `the zip is ${(zip.size / 2 ** 30).toFixed(1)} GB, more than the ${ZIP_LIMITS.totalBytes / 2 ** 30} GB of images this page reads at once`,
    );
  const unzipped = unzipEntries(new Uint8Array(await zip.arrayBuffer()));
  return [...unzipped].map(([path, bytes]) => ({ path, blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) }));
}

async function decodeSet(
  s: FolderSetPlan,
  byPath: Map<string, Blob>,
  size: number,
  skipped: string[],
  tick: () => void,
): Promise<{ images: Uint8Array[]; labels: number[] }> {
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  for (const f of s.files) {
    try {
      images.push((await decodeToModelInput(byPath.get(f.path)!, f.path, size, 'bicubic')).rgb);
      labels.push(f.label);
    } catch (e) {
      // The message names the file and why (not an image; too many pixels, and how many).
      skipped.push((e as Error).message);
    }
    tick();
  }
  return { images, labels };
}
