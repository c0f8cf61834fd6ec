import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { main } from '../../cli/wiseft';
import { makeTestBundle } from '../support/testBundle';
import { parseResults } from '../../src/core/eval/results';
import { randomImages, IMAGE_DIMS, maxAbsDiff } from '../support/testPair';
import { Explorer } from '../../src/core/explorer';
import { loadBundle } from '../../src/core/bundle/source';
import { dirSource } from '../../src/node/dirSource';
import { ortNode } from '../../src/core/runtime/ort-node';
import { quiet } from '../support/quiet';
import { writeBundleDir } from '../support/testBundle';

const writeBundle = (files: Map<string, Uint8Array>) => writeBundleDir(files, 'wiseft-pair-');

/** `npx wiseft …` as a user types it after `npm ci`, in its own process; --no: never install a package of that name. */
function npxWiseft(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['--no', 'wiseft', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('wiseft CLI', () => {
  it('evaluates the bundled pair over 21 α values; two shards merge to the same file as one run', async () => {
    const dir = 'public/pairs/shapes';
    const out = mkdtempSync(join(tmpdir(), 'wiseft-cli-'));
    expect(await quiet(() => main(['eval', '--pair', dir, '--alphas', '0:1:0.05', '--out', join(out, 'all.jsonl')]))).toBe(0);
    expect(await quiet(() => main(['eval', '--pair', dir, '--alphas', '0:1:0.05', '--shard', '0/2', '--out', join(out, 's0.jsonl')]))).toBe(
      0,
    );
    expect(await quiet(() => main(['eval', '--pair', dir, '--alphas', '0:1:0.05', '--shard', '1/2', '--out', join(out, 's1.jsonl')]))).toBe(
      0,
    );
    expect(await main(['merge', join(out, 's0.jsonl'), join(out, 's1.jsonl'), '--out', join(out, 'merged.jsonl')])).toBe(0);
    const all = readFileSync(join(out, 'all.jsonl'), 'utf8');
    expect(readFileSync(join(out, 'merged.jsonl'), 'utf8')).toBe(all);
    const lines = parseResults(all);
    expect(lines.map((l) => l.alpha)).toEqual(Array.from({ length: 21 }, (_, i) => Math.round(i * 5e4) / 1e6));
    expect(parseResults(readFileSync(join(out, 's0.jsonl'), 'utf8'))).toHaveLength(11);
  }, 600_000);

  it('exports θ(α) as an ONNX file that reproduces the engine', async () => {
    const dir = writeBundle(makeTestBundle().files);
    const out = join(mkdtempSync(join(tmpdir(), 'wiseft-cli-')), 'model.onnx');
    expect(await quiet(() => main(['export', '--pair', dir, '--alpha', '0.5', '--out', out]))).toBe(0);
    const session = await ort.InferenceSession.create(readFileSync(out));
    const images = randomImages(4, 9);
    const got = (await session.run({ image: new ort.Tensor('float32', images, [4, ...IMAGE_DIMS]) })).logits!.data as Float32Array;
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    await explorer.loadPair(await loadBundle(dirSource(dir)));
    const engine = (
      explorer as unknown as {
        pair: {
          engine: { run: (a: number, i: { data: Float32Array; dims: number[] }) => Promise<Record<string, { data: Float32Array }>> };
        };
      }
    ).pair.engine;
    const live = (await engine.run(0.5, { data: images, dims: [4, ...IMAGE_DIMS] })).logits!.data;
    expect(maxAbsDiff(got, live)).toBeLessThanOrEqual(1e-5);
    await explorer.dispose();
  });

  it('runs as `npx wiseft` (package.json bin → cli/bin.js → tsx) with its output and exit status', async () => {
    const ok = await npxWiseft(['members', '--pair', 'public/pairs/shapes']);
    expect(ok.code).toBe(0);
    expect(ok.stdout.split('\n')[0]).toMatch(/^e2e-seed0\tend-to-end\tseed 0\t.*\(default\)$/);
    // The α the build chose on its validation draw, with where it was chosen.
    // The α the rebuilt bundle recommends, read from its manifest rather than written in.
    const rec = (
      JSON.parse(readFileSync('public/pairs/shapes/manifest.json', 'utf8')).models.members[0].recommendedAlpha.alpha as number
    ).toFixed(2);
    expect(ok.stdout.split('\n')[0]).toMatch(
      new RegExp(`\\trecommended α ${rec.replace('.', '\\.')} \\(validation draw \\(seed 101[^\\t]*\\)\\t\\(default\\)$`),
    );
    expect(ok.stdout).not.toMatch(/^linear-seed0\t.*recommended/m);
    const bad = await npxWiseft(['eval']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^wiseft: --pair is required$/m);
  }, 60_000);

  it("`wiseft moved` prints the page's table: every weight of the bundled pair, members named, 3 significant digits, then totals", async () => {
    const out = await npxWiseft(['moved', 'public/pairs/shapes']);
    // npm may warn about this machine's config on stderr; the command itself writes nothing there.
    expect(out.stderr.split('\n').filter((l) => l && !l.startsWith('npm warn'))).toEqual([]);
    expect(out.code).toBe(0);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines[0]!.split('\t')).toEqual([
      'tensor',
      'group',
      'shape',
      '#params',
      '‖Δ‖/‖θ₀‖ End-to-end fine-tuning, seed 0',
      '‖Δ‖/‖θ₀‖ End-to-end fine-tuning, seed 1',
      '‖Δ‖/‖θ₀‖ Linear classifier (frozen image tower), seed 0',
      'cos(Δ e2e-seed0, Δ e2e-seed1)',
    ]);
    const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
    await explorer.loadPair(await loadBundle(dirSource('public/pairs/shapes')));
    const report = await explorer.moved();
    await explorer.dispose();
    const head = lines.find((l) => l.startsWith('head.weight\t'))!.split('\t');
    const row = report.rows.find((r) => r.name === 'head.weight')!;
    // The head is one row per class of the bundled world (20 since round 8), 64 features wide.
    expect(head.slice(2)).toEqual(['20×64', '1280', ...row.relativeChange.map((x) => x!.toPrecision(3)), row.cosine!.toPrecision(3)]);
    // The linear classifier moves the head only.
    expect(lines.find((l) => l.startsWith('encoder.proj\t'))!.split('\t')[6]).toBe('0');
    expect(lines.slice(1, 1 + report.rows.length).map((l) => l.split('\t')[0])).toEqual(report.rows.map((r) => r.name));
    expect(lines.at(-1)!.split('\t').slice(0, 4)).toEqual(['(all weights)', '', '', '296948']);
    const bad = await npxWiseft(['moved']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^wiseft: moved needs a pair: wiseft moved <dir\|zip\|manifest url>$/m);
  }, 120_000);

  it('refuses bad arguments with a message', async () => {
    await expect(main(['eval'])).rejects.toThrow(/--pair is required/);
    await expect(main(['eval', '--pair', 'x', '--shard', '3/2'])).rejects.toThrow(/bad shard/);
    await expect(main(['eval', '--pair', 'x', '--alphas', '1:0:0.1'])).rejects.toThrow(/bad α range/);
  });
});
