// `wiseft` reads a bundle zipped in one file (what the page's "Download the bundle with it" writes)
// wherever it reads a bundle folder: the same members, the same exported model, and a bad zip said
// in words.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { main } from '../../cli/wiseft';
import { captureLog, quiet } from '../support/quiet';

const PAIR = 'public/pairs/shapes';
const scratch = mkdtempSync(join(tmpdir(), 'wiseft-zip-'));

/** Every file under `dir`, by its path relative to `dir`. */
function filesUnder(dir: string, root = dir): [string, Uint8Array][] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory()
      ? filesUnder(full, root)
      : [[relative(root, full), new Uint8Array(readFileSync(full))] as [string, Uint8Array]];
  });
}

/** Writes a zip of `entries` (stored, as the page writes bundles) to the scratch folder; its path. */
function writeZip(name: string, entries: [string, Uint8Array][]): string {
  const zippable: Zippable = {};
  for (const [path, bytes] of entries) zippable[path] = [bytes, { level: 0 }];
  const path = join(scratch, name);
  writeFileSync(path, zipSync(zippable));
  return path;
}

describe('wiseft on a zipped bundle', () => {
  it('lists the same members and exports the same θ(α) bytes as from the folder, zipped at the top or in one folder', async () => {
    const files = filesUnder(PAIR);
    const top = writeZip('top.zip', files);
    const nested = writeZip(
      'nested.ZIP',
      files.map(([p, b]) => [`shapes/${p}`, b]),
    );
    const members = async (pair: string) => (await captureLog(() => main(['members', '--pair', pair]))).lines;
    const folder = await members(PAIR);
    expect(folder.length).toBeGreaterThan(1);
    expect(await members(top)).toEqual(folder);
    expect(await members(nested)).toEqual(folder);

    const exported = async (pair: string, out: string) => {
      expect(
        await quiet(() => main(['export', '--pair', pair, '--member', 'e2e-seed1', '--alpha', '0.3', '--out', join(scratch, out)])),
      ).toBe(0);
      return readFileSync(join(scratch, out));
    };
    expect((await exported(nested, 'zip.onnx')).equals(await exported(PAIR, 'folder.onnx'))).toBe(true);
  }, 120_000);

  it('says what is wrong with a bad zip, naming the file', async () => {
    const notZip = join(scratch, 'not.zip');
    writeFileSync(notZip, 'not a zip at all, only text'.repeat(10));
    await expect(main(['members', '--pair', notZip])).rejects.toThrow(/not\.zip: not a readable zip file/);
    const noManifest = writeZip('images.zip', [['a/b.txt', new TextEncoder().encode('hi')]]);
    await expect(main(['members', '--pair', noManifest])).rejects.toThrow(
      /images\.zip is a zip without manifest\.json at its top or in its one folder/,
    );
    await expect(main(['members', '--pair', join(scratch, 'missing.zip')])).rejects.toThrow(/could not read .*missing\.zip: no such file/);
    // A file the manifest lists but the zip lacks is named, as for a folder.
    const partial = writeZip(
      'partial.zip',
      filesUnder(PAIR).filter(([p]) => p !== 'zeroshot.onnx'),
    );
    await expect(quiet(() => main(['export', '--pair', partial, '--alpha', '0.5', '--out', join(scratch, 'x.onnx')]))).rejects.toThrow(
      /zeroshot\.onnx/,
    );
  }, 60_000);
});
