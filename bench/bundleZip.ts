// `--only-bundle-zip`: the bundled pair written as one .zip with a trained member added
// (core/bundle/zip.ts zipBundleWithMember, what "Download the bundle with it (.zip)" runs in the
// Worker) and unpacked again as a dropped zip is (unzipBundle), in Node. The member is the
// zero-shot checkpoint under a new id: writing depends on the bytes, not on what they hold.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { dirSource } from '../src/node/dirSource';
import { unzipBundle, zipBundleWithMember } from '../src/core/bundle/zip';
import { sha256Hex } from '../src/core/util/hash';
import { stat, type Stat } from './stat';

export interface BundleZipReport {
  zipBytes: number;
  files: number;
  writeMs: Stat;
  unpackMs: Stat;
  load: { before: number[]; after: number[] };
}

export async function bundleZip(pairDir: string, reps: number): Promise<BundleZipReport> {
  const before = loadavg();
  const bytes = new Uint8Array(readFileSync(join(pairDir, 'zeroshot.onnx')));
  const member = {
    spec: { id: 'bench-1', name: 'bench', kind: 'linear-classifier' as const, model: { path: 'x' } },
    bytes,
    sha256: await sha256Hex(bytes),
  };
  const write: number[] = [];
  const unpack: number[] = [];
  let zip: Uint8Array = new Uint8Array(0);
  let files = 0;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    zip = await zipBundleWithMember(dirSource(pairDir), member);
    const t1 = performance.now();
    files = (await unzipBundle([{ path: 'bundle.zip', blob: new Blob([zip as Uint8Array<ArrayBuffer>]) }])).length;
    unpack.push(performance.now() - t1);
    write.push(t1 - t0);
  }
  return { zipBytes: zip.length, files, writeMs: stat(write), unpackMs: stat(unpack), load: { before, after: loadavg() } };
}
