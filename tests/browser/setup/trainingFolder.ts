// A page with the bundled pair loaded and a <class>/<image> folder of shapes-world photos to train
// on (tools/training_folder.py, a draw of its own: the bundle ships no training split), for the
// tests of "Fine-tune it yourself". Registers its own beforeAll/afterAll.
import { beforeAll, afterAll, inject } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPage, type Session } from './chromium';
import { PAIR_LOAD_MS } from '../../support/timeouts';

export interface TrainingPage {
  session(): Session;
  /** The folder of `images` photos (to set on the probe's folder input). */
  folder(): string;
  /** A scratch folder removed with the page (downloads). */
  scratch(): string;
}

export function trainingPage(images: number): TrainingPage {
  let s: Session | null = null;
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wiseft-training-'));
    execFileSync('.venv/bin/python', ['-m', 'tools.training_folder', '--n', String(images), '--out', join(dir, 'shapes-train')]);
    // wasm: the bundled model is tiny, and the training path is the same on every backend.
    s = await openPage(`${inject('baseUrl')}#backend=wasm`);
    await s.page.waitForFunction(() => globalThis.wiseft?.store.getState().pair, undefined, { timeout: PAIR_LOAD_MS });
  }, PAIR_LOAD_MS);
  afterAll(async () => {
    await s?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return { session: () => s!, folder: () => join(dir, 'shapes-train'), scratch: () => dir };
}
