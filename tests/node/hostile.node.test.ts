// Issue 13, "Hostile inputs, round two", with the real onnxruntime-node: pairs that load but do not
// fit their manifest (class count vs logits width, a rank-1 logits output, a text tower with other
// names), a pair that fails only when run, and sprite-sheet bombs through the CLI. Each would have
// loaded (and replaced the working pair) before the load-time check.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, relative } from 'node:path';
import { Explorer } from '../../src/core/explorer';
import { loadBundle } from '../../src/core/bundle/source';
import { ortNode } from '../../src/core/runtime/ort-node';
import { ResourceLedger } from '../../src/core/runtime/ledger';
import { main } from '../../cli/wiseft';
import { makeTestBundle, memorySource } from '../support/testBundle';
import { pngBomb } from '../support/bombs';
import { editManifest, editModels, reshapeLogits, setOutputDims, failsWhenRun, type Files } from '../support/modelEdits';
import { quiet } from '../support/quiet';

type Json = Record<string, unknown>;

/** One reference set of 20 images: small, and free of class subsets a class-count edit would break. */
const oneSet = () => makeTestBundle({ sets: [{ id: 'reference', role: 'reference', count: 20 }] });

/** Runs `fn` on an explorer with a good pair loaded; returns the ledger of its sessions, all released. */
async function withGoodPair(fn: (ex: Explorer, before: string) => Promise<void>): Promise<ResourceLedger> {
  const ledger = new ResourceLedger();
  const ex = new Explorer({ ort: ortNode, backend: 'cpu', ledger });
  try {
    await ex.loadPair(await loadBundle(memorySource(makeTestBundle().files)));
    const before = ex.current!.bundleHash;
    await fn(ex, before);
    // The pair in service is the one loaded first, and it still evaluates.
    expect(ex.current!.bundleHash).toBe(before);
    expect(await ex.evaluate([0.5], null, () => undefined)).toBe('done');
    expect(ledger.count('blend-session')).toBe(1);
  } finally {
    await ex.dispose();
  }
  return ledger;
}

function writeDir(files: Files): string {
  const dir = mkdtempSync(join(tmpdir(), 'wiseft-hostile-'));
  for (const [p, b] of files) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), b);
  }
  return dir;
}

function readDir(dir: string): Files {
  const files: Files = new Map();
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const full = join(d, f);
      if (statSync(full).isDirectory()) walk(full);
      else files.set(relative(dir, full), new Uint8Array(readFileSync(full)));
    }
  };
  walk(dir);
  return files;
}

describe('item 3: the class count must equal the logits width, and logits must be rank 2', () => {
  it('refuses 3 classes on a 5-logit model, and 10,000; the previous pair stays', async () => {
    await withGoodPair(async (ex) => {
      const three = editManifest(oneSet().files, (m) => {
        m.classes = ['c0', 'c1', 'c2'];
        (m.eval as { sets: { labels: number[] }[] }).sets[0]!.labels = Array.from({ length: 20 }, (_, i) => i % 3);
      });
      await expect(ex.loadPair(await loadBundle(memorySource(three)))).rejects.toThrow(
        /the image model's output 'logits' has 5 logits per image, but the manifest lists 3 classes: each class needs exactly one logit/,
      );
      const many = editManifest(oneSet().files, (m) => {
        m.classes = Array.from({ length: 10_000 }, (_, i) => `class ${i}`);
      });
      await expect(ex.loadPair(await loadBundle(memorySource(many)))).rejects.toThrow(
        /has 5 logits per image, but the manifest lists 10,000 classes/,
      );
    });
  });

  it('refuses a rank-1 logits output, declared or found only when run', async () => {
    await withGoodPair(async (ex) => {
      const declared = editModels(oneSet().files, (g) => {
        reshapeLogits(g, [[-1]]);
        setOutputDims(g, 'logits', ['n']);
      });
      await expect(ex.loadPair(await loadBundle(memorySource(declared)))).rejects.toThrow(
        /the image model's output 'logits' is declared \[n\], not \[batch, 5\]/,
      );
      // The graph does not say: the test batch shows it.
      const undeclared = editModels(oneSet().files, (g) => {
        reshapeLogits(g, [[-1]]);
        setOutputDims(g, 'logits', null);
      });
      await expect(ex.loadPair(await loadBundle(memorySource(undeclared)))).rejects.toThrow(
        /on a test batch of 2 images the output 'logits' is \[10\], not \[2, 5\]/,
      );
    });
  });

  it('the CLI refuses such a pair with a message and a failing exit, instead of writing 0% or wrong numbers', async () => {
    const three = editManifest(oneSet().files, (m) => {
      m.classes = ['c0', 'c1', 'c2'];
      (m.eval as { sets: { labels: number[] }[] }).sets[0]!.labels = Array.from({ length: 20 }, (_, i) => i % 3);
    });
    const dir = writeDir(three);
    const out = join(dir, 'r.jsonl');
    let code: number | Error;
    try {
      code = await quiet(() => main(['eval', '--pair', dir, '--alphas', '0,1', '--out', out]));
    } catch (e) {
      code = e as Error;
    }
    if (code instanceof Error) expect(code.message).toMatch(/5 logits per image, but the manifest lists 3 classes/);
    else expect(code).not.toBe(0);
    expect(() => readFileSync(out)).toThrow();
  });
});

describe('item 7: a pair that loads but fails when run does not replace the working pair', () => {
  it('is refused after one test batch, with the reason, and the old pair, its results and sessions stay', async () => {
    await withGoodPair(async (ex) => {
      await ex.evaluate([0], null, () => undefined);
      const kept = ex.snapshot()!.points;
      const failing = failsWhenRun(oneSet().files);
      await expect(ex.loadPair(await loadBundle(memorySource(failing)))).rejects.toThrow(
        /^the pair loads but fails when run on a test batch of 2 images: .*Reshape/s,
      );
      expect(ex.snapshot()!.points).toEqual(kept);
    });
  });
});

describe('item 15: the text tower is checked at load', () => {
  const shapes = readDir('public/pairs/shapes');

  it('refuses a manifest naming an input or output the text encoder does not have; the previous pair stays', async () => {
    const ledger = await withGoodPair(async (ex) => {
      const badInput = editManifest(shapes, (m) => {
        (m.text as Json).input = 'tokens';
      });
      await expect(ex.loadPair(await loadBundle(memorySource(badInput)))).rejects.toThrow(
        /the text encoder has no input 'tokens' \(its inputs: input_ids\), as text\.input and text\.output in the manifest say it should/,
      );
      const badOutput = editManifest(shapes, (m) => {
        (m.text as Json).output = 'pooled';
      });
      await expect(ex.loadPair(await loadBundle(memorySource(badOutput)))).rejects.toThrow(
        /the text encoder has no output 'pooled' \(its outputs: .*text_embedding/,
      );
    });
    expect(ledger.count('text-session')).toBe(0);
  });

  it('loads the bundled pair, text tower included (the check passes a right pair)', async () => {
    const ex = new Explorer({ ort: ortNode, backend: 'cpu' });
    await ex.loadPair(await loadBundle(memorySource(shapes)));
    expect(ex.current!.hasText).toBe(true);
    await ex.setCustomLabels(['a red circle', 'a blue square']);
    await ex.dispose();
  });
});

describe('item 5: sprite sheets are not decoded for export, and a bomb sheet is refused from its header', () => {
  it('export refuses a 20000×20000 sheet for 10 tiles at once, without decoding it', async () => {
    const b = makeTestBundle({ sets: [{ id: 'reference', role: 'reference', count: 10 }] });
    b.files.set('eval/reference.png', pngBomb(20000, 20000));
    const dir = writeDir(b.files);
    const rss = process.memoryUsage().rss;
    const t0 = performance.now();
    let err: Error | null = null;
    try {
      await quiet(() => main(['export', '--pair', dir, '--alpha', '0.5', '--out', join(dir, 'm.onnx')]));
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(
      /eval set 'reference': eval\/reference\.png: the sprite sheet declares 20000×20000px \(400 Mpx in a 1\.\d MB file\).*refused without decoding it/,
    );
    // Decoding it took 15-18 s and 3.5 GB.
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(500 * 2 ** 20);
  });

  it('exporting never decodes the eval sets; evaluating decodes them once', async () => {
    const { files } = makeTestBundle();
    const ex = new Explorer({ ort: ortNode, backend: 'cpu' });
    await ex.loadPair(await loadBundle(memorySource(files)));
    const sets = () => (ex as unknown as { pair: { evaluator: { sets: { pixels: Uint8Array | null }[] } } }).pair.evaluator.sets;
    await ex.exportOnnx(0.5);
    await ex.classify([new Uint8Array(8 * 8 * 3)], [0.5]);
    expect(sets().map((s) => s.pixels)).toEqual([null, null, null]);
    await ex.evaluate([0], null, () => undefined);
    expect(sets().every((s) => s.pixels !== null)).toBe(true);
    await ex.dispose();
  });
});
