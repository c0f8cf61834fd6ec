// A bundle as one .zip file: what the page writes to hand on a member trained in it, and what a drop
// of one .zip loads. Unpacked by the eval folder's reader (core/eval/folder.ts): every size is
// checked from the zip's headers before a byte is inflated, and a path that would leave the folder
// is refused, as for a dropped folder of eval images.
import { zipSync, type Zippable } from 'fflate';
import { unzipEntries, EvalFolderError, u16, u32, type ZipLimits } from '../eval/folder';
import { parseManifest, folderOf, type Manifest, type ManifestInput, type MemberSpec } from './manifest';
import { BundleError, readListedFile, type BundleSource, type FileSpec } from './source';
import { copyBytes, parseModel } from '../onnx/model';
import { ONE_FILE_WEIGHTS, inlineOnnx } from '../onnx/oneFile';

/**
 * One checkpoint may be a CLIP tower of hundreds of MB; beyond 2 GB a file is split into external
 * data files anyway. The zip is read whole, then unpacked beside it: 4 GB is all a page holds.
 */
export const BUNDLE_ZIP_LIMITS: ZipLimits = { entryBytes: 2 ** 31, totalBytes: 2 ** 32 };

const GB = (n: number) => `${(n / 2 ** 30).toFixed(1)} GB`;

/** A dropped file, with its path inside the drop. */
export interface DroppedFile {
  path: string;
  blob: Blob;
}

/** One dropped file named *.zip: a zipped bundle or zipped eval sets (zipHoldsBundle tells which). */
export function isOneZip(files: readonly DroppedFile[]): boolean {
  return files.length === 1 && /\.zip$/i.test(files[0]!.path);
}

const bytesOf = async (b: Blob) => new Uint8Array(await b.arrayBuffer());

/** Where a zip's central directory lies, from its end record (ZIP64's when it has one); null for no zip. */
async function directoryRange(zip: Blob): Promise<{ offset: number; size: number } | null> {
  const tailStart = Math.max(0, zip.size - (22 + 0xffff + 20));
  const tail = await bytesOf(zip.slice(tailStart));
  let e = tail.length - 22;
  while (e >= 0 && u32(tail, e) !== 0x06054b50) e--;
  if (e < 0) return null;
  let range = { offset: u32(tail, e + 16), size: u32(tail, e + 12) };
  if (e >= 20 && u32(tail, e - 20) === 0x07064b50) {
    const at = u32(tail, e - 12) + u32(tail, e - 8) * 2 ** 32;
    const z = await bytesOf(zip.slice(at, at + 56));
    if (z.length === 56 && u32(z, 0) === 0x06064b50)
      range = { offset: u32(z, 48) + u32(z, 52) * 2 ** 32, size: u32(z, 40) + u32(z, 44) * 2 ** 32 };
  }
  return range;
}

/**
 * Whether a dropped zip is a bundle (a manifest.json at its top or in one folder) rather than eval
 * images: decided from its central directory alone, a few KB read from a file of any size.
 */
export async function zipHoldsBundle(zip: Blob): Promise<boolean> {
  const range = await directoryRange(zip);
  if (!range) return false;
  const dir = await bytesOf(zip.slice(range.offset, range.offset + range.size));
  const utf8 = new TextDecoder();
  for (let o = 0; o + 46 <= dir.length && u32(dir, o) === 0x02014b50;) {
    const nameLength = u16(dir, o + 28);
    if (/^([^/]+\/)?manifest\.json$/.test(utf8.decode(dir.subarray(o + 46, o + 46 + nameLength)))) return true;
    o += 46 + nameLength + u16(dir, o + 30) + u16(dir, o + 32);
  }
  return false;
}

/** Entries a bundle never needs: folders, hidden files, and the resource forks macOS's Finder adds. */
const keepBundleEntry = (name: string) => !name.split('/').some((s) => s.startsWith('.') || s === '__MACOSX');

/**
 * The files inside a zipped bundle, as if its folder had been dropped; any other drop as it is.
 * @throws BundleError: not a zip, too large, a path outside the folder, a damaged directory.
 */
export async function unzipBundle(files: DroppedFile[], limits: ZipLimits = BUNDLE_ZIP_LIMITS): Promise<DroppedFile[]> {
  if (!isOneZip(files)) return files;
  const zip = files[0]!.blob;
  if (zip.size > limits.totalBytes)
    throw new BundleError(`the zip is ${GB(zip.size)}, more than the ${GB(limits.totalBytes)} of bundle files this page reads at once`);
  let entries: Map<string, Uint8Array>;
  try {
    entries = unzipEntries(new Uint8Array(await zip.arrayBuffer()), limits, { keep: keepBundleEntry, noun: 'file' });
  } catch (e) {
    throw e instanceof EvalFolderError ? new BundleError(e.message) : e;
  }
  if (entries.size === 0) throw new BundleError('the zip holds no files: zip the bundle folder (manifest.json and its files)');
  return [...entries].map(([path, bytes]) => ({ path, blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) }));
}

/** Every file `m` lists (each once): checkpoints and their external data, sweeps, the text tower, eval images. */
export function listedFiles(m: Manifest): FileSpec[] {
  const models = [m.models.zeroShot, ...m.models.members.map((x) => x.model)];
  const files: (FileSpec | undefined)[] = [
    ...models.flatMap((x) => [x, ...(x.externalData ?? [])]),
    ...m.models.members.flatMap((x) => [x.sweeps?.weight, x.sweeps?.output]),
    ...(m.text ? [m.text.model, { path: m.text.tokenizer }] : []),
    ...(m.eval?.sets ?? []).map((s) => s.sprite),
  ];
  const byPath = new Map<string, FileSpec>();
  for (const f of files) if (f && !byPath.has(f.path)) byPath.set(f.path, f);
  return [...byPath.values()];
}

/** A member trained in the page: its manifest entry (its file not yet placed) and its checkpoint. */
export interface MemberToAdd {
  spec: MemberSpec;
  bytes: Uint8Array;
  sha256: string;
}

/** The data file paths (from its folder) that a model's external tensors name. */
function namedDataFiles(bytes: Uint8Array, label: string): Set<string> {
  const named = new Set<string>();
  for (const t of parseModel(bytes, label).graph.initializer) {
    const location = t.external_data.find((e) => e.key === 'location')?.value;
    if (location) named.add(location.replace(/^\.\//, ''));
  }
  return named;
}

/**
 * The trained member's entry as the bundle will list it: its file beside the zero-shot model, under
 * a name no listed file has, listing the zero-shot model's external data when it reads any of it (a
 * checkpoint written from the zero-shot one names those files from that folder). A member naming a
 * data file the zero-shot model does not list is refused: the zip would lack it.
 */
function placedMember(m: Manifest, t: MemberToAdd, taken: ReadonlySet<string>): MemberSpec {
  const dir = folderOf(m.models.zeroShot.path);
  let path = `${dir}trained-${t.spec.id}.onnx`;
  for (let k = 2; taken.has(path); k++) path = `${dir}trained-${t.spec.id}-${k}.onnx`;
  const model = { path, bytes: t.bytes.length, sha256: t.sha256 };
  const named = namedDataFiles(t.bytes, `member '${t.spec.id}'`);
  if (named.size === 0) return { ...t.spec, model };
  const externalData = m.models.zeroShot.externalData ?? [];
  const listed = new Set(externalData.map((f) => f.path.slice(dir.length)));
  const missing = [...named].find((f) => !listed.has(f));
  if (missing !== undefined)
    throw new BundleError(
      `member '${t.spec.id}' reads weights from '${missing}', which the zero-shot model does not list under externalData`,
    );
  return { ...t.spec, model: { ...model, externalData } };
}

/** The zero-shot model's external data files by their path from its folder (as a member names them), each checked. */
async function zeroShotData(source: BundleSource, m: Manifest): Promise<Map<string, Uint8Array>> {
  const dir = folderOf(m.models.zeroShot.path);
  const files = new Map<string, Uint8Array>();
  for (const f of m.models.zeroShot.externalData ?? []) files.set(f.path.slice(dir.length), await readListedFile(source, f));
  return files;
}

/**
 * Member `t`'s checkpoint as one self-contained ONNX file, which onnxruntime loads alone: any
 * weight it still reads from the zero-shot model's data files (one training left as it was)
 * written inline. Past a single file's 2 GB it is refused, naming the bundle .zip instead, which
 * keeps the checkpoint beside those files. Always a new array (the caller may transfer it).
 */
export async function trainedMemberOnnx(source: BundleSource, t: MemberToAdd, limit = ONE_FILE_WEIGHTS): Promise<Uint8Array> {
  const label = `member '${t.spec.id}'`;
  const refuse = (bytes: number) =>
    `${label} holds ${GB(bytes)} of weights, too many for a single ONNX file (protobuf's 2 GB): download the bundle with it (.zip), which keeps its ONNX beside the zero-shot model's data files`;
  const files = async () => zeroShotData(source, parseManifest(await source.read('manifest.json')));
  const bytes = await inlineOnnx(t.bytes, files, label, refuse, limit);
  return bytes === t.bytes ? copyBytes(t.bytes) : bytes;
}

/** `m` as written in manifest.json (format 2) with `member` last among its members, replacing one of the same id. */
export function manifestWithMember(m: Manifest, member: MemberSpec): ManifestInput {
  const members = [...m.models.members.filter((x) => x.id !== member.id), member];
  return { ...m, format: 'wiseft-pair/2', models: { zeroShot: m.models.zeroShot, members } };
}

/**
 * Refuses, from the sizes the manifest declares and before a byte is read, a zip the page would
 * refuse to load again (unzipBundle's limits): one file or all of them past the limit.
 */
function checkLoadsBack(files: readonly FileSpec[], limits: ZipLimits): void {
  const instead =
    "'Download its ONNX' writes the member alone (when its weights fit one file's 2 GB), to list in the bundle folder's manifest (docs/bundle-format.md)";
  const big = files.find((f) => (f.bytes ?? 0) > limits.entryBytes);
  if (big)
    throw new BundleError(
      `${big.path} is ${GB(big.bytes!)}, more than the ${GB(limits.entryBytes)} a file in a bundle .zip may take: ${instead}`,
    );
  const total = files.reduce((sum, f) => sum + (f.bytes ?? 0), 0);
  if (total > limits.totalBytes)
    throw new BundleError(
      `the bundle with the member is ${GB(total)}, more than the ${GB(limits.totalBytes)} a bundle .zip may hold: ${instead}`,
    );
}

/**
 * The bundle `source` holds, with `t` added as a member, as one .zip: its manifest (checked against
 * the schema before it is written) and every file that manifest lists, each read and checked
 * against the size and sha256 its manifest declares. Checkpoints and PNGs are stored, not
 * compressed again: deflate gains little on them and costs seconds.
 */
export async function zipBundleWithMember(
  source: BundleSource,
  t: MemberToAdd,
  onProgress: (done: number, total: number) => void = () => {},
  limits: ZipLimits = BUNDLE_ZIP_LIMITS,
): Promise<Uint8Array> {
  const m = parseManifest(await source.read('manifest.json'));
  const files = listedFiles(m);
  const member = placedMember(m, t, new Set(files.map((f) => f.path)));
  checkLoadsBack([...files, member.model], limits);
  const text = JSON.stringify(manifestWithMember(m, member), null, 2);
  parseManifest(text);
  const entries: Zippable = { 'manifest.json': new TextEncoder().encode(text) };
  for (const [i, f] of files.entries()) {
    entries[f.path] = [await readListedFile(source, f), { level: 0 }];
    onProgress(i + 1, files.length + 1);
  }
  entries[member.model.path] = [t.bytes, { level: 0 }];
  onProgress(files.length + 1, files.length + 1);
  return zipSync(entries);
}
