#!/usr/bin/env -S npx tsx
// wiseft: the explorer's engine on the command line (Node, onnxruntime-node, the same core).
//   wiseft eval --pair <dir|zip|url> [--member id] [--alphas 0:1:0.05] [--out results.jsonl] [--shard i/n]
//   wiseft eval --pair <dir|zip|url> --soups uniform,greedy,model-stock[,weights=w0:w1:…] [--images n] [--out soups.jsonl]
//   wiseft eval --pair <dir|zip|url> --layers <α,α,…|preset|sensitivity> [--layers …] [--alphas …] [--lines base,slope] [--images n]
//   (any eval: --calibration adds "<set>:ece" and "<set>:nll")
//   wiseft layers --pair <dir|zip|url>
//   wiseft merge <shard.jsonl>... --out results.jsonl
//   wiseft export --pair <dir|zip|url> [--member id] --alpha 0.5 --out model.onnx
//   wiseft members --pair <dir|zip|url>
//   wiseft moved <dir|zip|url> [--member id]
import { parseArgs } from 'node:util';
import { open, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ModelProto } from '../src/core/onnx/proto';
import { GB, ONE_FILE_WEIGHTS, oneFileOnnx, splitOnnx, weightBytes } from '../src/core/onnx/oneFile';
import { Explorer } from '../src/core/explorer';
import { loadBundle, type LoadProgress } from '../src/core/bundle/source';
import { parseManifest, UnknownMemberError } from '../src/core/bundle/manifest';
import { ortNode } from '../src/core/runtime/ort-node';
import { pairSource } from '../src/node/dirSource';
import { movedTableText } from '../src/core/moved/table';
import { parseSoupRecipes, SoupLines } from '../src/core/soup/soupResults';
import { soupKey, weightsMixing, settingKey } from '../src/core/eval/ids';
import { FOLLOWS_ALPHA, layerLine, layerSettingsFor, parseLayerRequest, parseLinesParams } from '../src/core/eval/layerResults';
import type { SetAccuracy } from '../src/core/eval/frontier';
import { parseAlphas, shardAlphas, toResultLine, formatResults, parseResults, mergeResults } from '../src/core/eval/results';

const HELP = `wiseft — evaluate and export WiSE-FT pairs headlessly

  wiseft eval    --pair <dir|zip|manifest url> [--member id] [--alphas 0:1:0.05] [--out results.jsonl] [--shard i/n]
  wiseft eval    --pair <dir|zip|manifest url> --soups uniform,greedy,model-stock[,weights=w0:w1:…] [--images n] [--out soups.jsonl]
  wiseft eval    --pair <dir|zip|manifest url> [--member id] --layers <α,α,…|preset|sensitivity> [--layers …]
                 [--alphas 0:1:0.05] [--lines base,slope] [--images n] [--out layers.jsonl]
  wiseft layers  --pair <dir|zip|manifest url> [--member id]
  wiseft merge   <shard.jsonl> [<shard.jsonl> ...] --out results.jsonl
  wiseft export  --pair <dir|zip|manifest url> [--member id] --alpha 0.5 --out model.onnx
  wiseft members --pair <dir|zip|manifest url>
  wiseft moved   <dir|zip|manifest url> [--member id]

eval writes wise-ft results (JSON lines: alpha, "<set>:top1", "<set>:n") for every α on every
eval set of the pair. --shard i/n evaluates every n-th α starting at i, for spreading a sweep
over machines; merge joins the shards into the file an unsharded run writes.
With --soups, eval writes one line per soup over every member of the bundle instead (no α):
"soup", its "mixing" (each member's weight, zero-shot first; Model Stock's per-layer cosθ and t;
the greedy soup's steps) and "<set>:top1", "<set>:n", on the first --images images of each set.
With --layers, eval writes one line per per-layer setting instead (no α): "mixing": "per-layer",
"layers" (each layer group's α, graph order), how it was asked for ("preset", "presetAlpha",
"lines", or the sensitivity strip's "group" and "variant") and "<set>:top1", "<set>:n", on the first
--images images of each set. A --layers value is one α per layer group (−0.5 to 1.5; layers lists
the groups), a preset of the app's per-layer panel (uniform, head-only, backbone-only: one setting
per α of --alphas; lines, lines-reverse: the LiNeS ramp from --lines base,slope, default 0.2,0.8)
or sensitivity (each group reset to zero-shot, and each group alone fine-tuned); repeat it for more.
--calibration adds "<set>:ece" (top-label, 15 bins) and "<set>:nll" (mean −log p of the true class)
to every line, α, soup or per-layer, over the same images as "<set>:n".
A pair is a bundle folder, the URL of its manifest.json, or a .zip of the folder (as the page's
"Download the bundle with it" writes one: a member trained in the page, ready to evaluate here).
export writes θ(α) as one self-contained ONNX file (every weight inline, also when the pair keeps
its weights in external data files); past a single file's 2 GB, as onnx.save_model writes large
models: the graph at --out and its weights in <out>.data beside it.
--member picks the fine-tuned member of a bundle with several (wiseft-pair/2; default: the
first); members lists them.
moved prints what fine-tuning moved, per tensor (tab-separated): each member's ‖θₖ − θ₀‖ / ‖θ₀‖
and the cosine between two members' deltas (the first two end-to-end ones), then the totals per
layer group and over all weights; every member's checkpoint is read.`;

function progressBar(done: number, total: number, label: string): void {
  if (!process.stderr.isTTY && done !== total && done % 10 !== 0) return;
  const width = 30;
  const filled = Math.round((width * done) / Math.max(1, total));
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}   ${done === total ? '\n' : ''}`);
}

/** Download progress on a terminal (a URL pair): the same numbers as the app's loading bar. */
function downloadProgress(p: LoadProgress): void {
  if (!process.stderr.isTTY) return;
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const done = p.total !== null && p.loaded >= p.total;
  process.stderr.write(`\r${p.file}: ${mb(p.loaded)}${p.total !== null ? ` of ${mb(p.total)}` : ''} MB   ${done ? '\n' : ''}`);
}

async function openPair(pair: string, member?: string): Promise<Explorer> {
  const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
  let bundle;
  try {
    // Only the selected member's checkpoint is read; an unknown id fails before any model is.
    bundle = await loadBundle(await pairSource(pair), downloadProgress, { member: member ?? null, unknownMember: 'error' });
  } catch (e) {
    if (e instanceof UnknownMemberError) throw new Error(`--member: ${e.message}`, { cause: e });
    throw e;
  }
  try {
    await explorer.loadPair(bundle);
  } catch (e) {
    // The engine's messages name the model or tokenizer file; say which pair too.
    throw new Error(`${pair}: ${(e as Error).message}`, { cause: e });
  }
  return explorer;
}

/** Every argument parses strictly: no hex, no empty string read as 0, no "1e9-point" grid. */
export const MAX_ALPHAS = 10_001;
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function alphaValue(text: string, what: string): number {
  const x = DECIMAL.test(text.trim()) ? Number(text) : NaN;
  if (!(x >= 0 && x <= 1)) throw new Error(`${what}: '${text}' is not a number between 0 and 1 (decimal, e.g. 0.25)`);
  return x;
}

/** Checks --alphas before any grid is built: a range's point count and every number. */
export function checkAlphas(spec: string): void {
  if (spec.trim() === '') throw new Error('--alphas is empty: give start:stop:step (e.g. 0:1:0.05) or a list (e.g. 0,0.5,1)');
  if (spec.includes(':')) {
    const parts = spec.split(':');
    if (parts.length !== 3) throw new Error(`--alphas '${spec}': a range is start:stop:step, three numbers`);
    const [a, b, step] = parts.map((p, i) => alphaValue(p, `--alphas ${['start', 'stop', 'step'][i]}`)) as [number, number, number];
    if (a > b) throw new Error(`--alphas '${spec}': bad α range, start ${a} is after stop ${b}`);
    if (!(step > 0)) throw new Error(`--alphas '${spec}': the step must be above 0`);
    // The tolerance forgives (1 - 0) / 0.1 = 9.999…: the count parseAlphas builds.
    const n = Math.floor((b - a) / step + 1e-6) + 1;
    if (n > MAX_ALPHAS) throw new Error(`--alphas '${spec}' has ${n} points; at most ${MAX_ALPHAS} (a step of 0.0001 over [0, 1])`);
    return;
  }
  const list = spec.split(',');
  if (list.length > MAX_ALPHAS) throw new Error(`--alphas lists ${list.length} values; at most ${MAX_ALPHAS}`);
  list.forEach((x) => alphaValue(x, '--alphas'));
}

async function readShard(path: string): Promise<ReturnType<typeof parseResults>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new Error(
      `could not read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message}`,
      { cause: e },
    );
  }
  try {
    return parseResults(text);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** One line, no stack: what a failed command prints. */
export function oneLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/\s*\n\s*/g, ' ').trim() || 'failed (no message)';
}

const OPTIONS = {
  pair: { type: 'string' },
  alphas: { type: 'string', default: '0:1:0.05' },
  alpha: { type: 'string' },
  out: { type: 'string' },
  shard: { type: 'string' },
  member: { type: 'string' },
  soups: { type: 'string' },
  images: { type: 'string' },
  layers: { type: 'string', multiple: true },
  lines: { type: 'string' },
  calibration: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The options and positional arguments after the command. */
type Args = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof OPTIONS }>>;

function noPositionals(command: string, { positionals }: Args): void {
  if (positionals.length > 0) throw new Error(`${command} takes no positional arguments (got '${positionals[0]}')`);
}

/** Soups over every member of the bundle, one line each, in the order asked. */
async function soupsCommand(
  pair: string,
  spec: string,
  images: string | undefined,
  out: string | undefined,
  calibration: boolean,
): Promise<number> {
  const recipes = parseSoupRecipes(spec);
  const n = imagesPerSet(images);
  const explorer = await openPair(pair);
  try {
    const p = explorer.current!;
    const lines = new SoupLines(
      ['zero-shot', ...p.members.map((m) => m.id)],
      calibration ? (key) => explorer.calibrationOf({ soupKey: key }) : undefined,
    );
    const t0 = performance.now();
    await explorer.evaluateSoups(recipes, n, (u) => lines.add(u));
    const text =
      lines
        .lines(recipes, (w) => soupKey(p.resultsKey, weightsMixing(w)))
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n';
    if (out) await writeFile(out, text);
    else process.stdout.write(text);
    console.error(
      `evaluated ${recipes.length} soups over ${p.members.length} members in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  } finally {
    await explorer.dispose();
  }
  return 0;
}

/** --images: a whole number above 0, or every image when absent. */
function imagesPerSet(images: string | undefined): number {
  const n = images === undefined ? Infinity : Number(images);
  if (!(Number.isInteger(n) || n === Infinity) || n < 1) throw new Error(`--images: '${images}' is not a whole number of images above 0`);
  return n;
}

/** `--layers`' requests with what they need, checked before any pair is opened. */
function layerRequests(values: Args['values']) {
  const requests = values.layers!.map(parseLayerRequest);
  const lines = parseLinesParams(values.lines);
  if (values.lines !== undefined && !requests.some((r) => r.kind === 'preset' && (r.preset === 'lines' || r.preset === 'lines-reverse')))
    throw new Error('--lines goes with --layers lines or --layers lines-reverse');
  if (values.shard !== undefined) throw new Error('--shard goes with α lines, not --layers');
  const followsAlpha = requests.some((r) => r.kind === 'preset' && FOLLOWS_ALPHA.includes(r.preset));
  if (followsAlpha) checkAlphas(values.alphas);
  return { requests, lines, alphas: followsAlpha ? parseAlphas(values.alphas) : [], n: imagesPerSet(values.images) };
}

/** Per-layer settings, one line each, in the order asked (a preset that follows α: one per α). */
async function layersCommand(args: Args): Promise<number> {
  const { values } = args;
  const { requests, lines, alphas, n } = layerRequests(values);
  const explorer = await openPair(values.pair!, values.member);
  try {
    const p = explorer.current!;
    const settings = layerSettingsFor(requests, p.layers, alphas, lines);
    const points = new Map<string, Record<string, SetAccuracy>>();
    const t0 = performance.now();
    await explorer.evaluateLayers(
      settings.map((x) => x.alphas),
      n,
      (u) => {
        points.set(u.settingKey, u.point);
        progressBar(u.progress.done, u.progress.total, 'per-layer settings');
      },
    );
    const line = (x: (typeof settings)[number]) =>
      JSON.stringify(
        layerLine(
          x,
          p.layers,
          points.get(settingKey(p.resultsKey, x.alphas)) ?? {},
          values.calibration ? explorer.calibrationOf({ layers: x.alphas }) : undefined,
        ),
      );
    const text = settings.map(line).join('\n') + '\n';
    if (values.out) await writeFile(values.out, text);
    else process.stdout.write(text);
    console.error(
      `evaluated ${settings.length} per-layer settings over ${p.layers.length} layer groups in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  } finally {
    await explorer.dispose();
  }
  return 0;
}

async function evalCommand(args: Args): Promise<number> {
  const { values } = args;
  if (!values.pair) throw new Error('--pair is required');
  noPositionals('eval', args);
  if (values.soups !== undefined && values.layers !== undefined)
    throw new Error('--soups and --layers write different lines: one at a time');
  if (values.soups !== undefined) {
    if (values.lines !== undefined) throw new Error('--lines goes with --layers lines or --layers lines-reverse');
    return soupsCommand(values.pair, values.soups, values.images, values.out, values.calibration === true);
  }
  if (values.layers !== undefined) return layersCommand(args);
  if (values.images !== undefined) throw new Error('--images goes with --soups or --layers');
  if (values.lines !== undefined) throw new Error('--lines goes with --layers lines or --layers lines-reverse');
  checkAlphas(values.alphas);
  const alphas = shardAlphas(parseAlphas(values.alphas), values.shard);
  const explorer = await openPair(values.pair, values.member);
  const t0 = performance.now();
  await explorer.evaluate(alphas, null, (u) => progressBar(u.progress.done, u.progress.total, `α=${u.alpha.toFixed(2)}`));
  const snap = explorer.snapshot()!;
  const lines = alphas.map((a) =>
    toResultLine(a, snap.points[String(a)] ?? {}, {}, values.calibration ? explorer.calibrationOf({ alpha: a }) : undefined),
  );
  const text = formatResults(lines);
  if (values.out) await writeFile(values.out, text);
  else process.stdout.write(text);
  const images = lines.reduce(
    (s, l) =>
      s +
      Object.entries(l)
        .filter(([k]) => k.endsWith(':n'))
        .reduce((x, [, v]) => x + v, 0),
    0,
  );
  console.error(
    `evaluated ${alphas.length} α × ${explorer.current!.sets.length} sets (${images} images) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  await explorer.dispose();
  return 0;
}

/** Shards joined into the file an unsharded eval writes. */
async function mergeCommand({ values, positionals }: Args): Promise<number> {
  if (!values.out) throw new Error('--out is required');
  if (positionals.length === 0) throw new Error('merge needs at least one shard file: wiseft merge s0.jsonl s1.jsonl --out results.jsonl');
  const shards = await Promise.all(positionals.map(readShard));
  await writeFile(values.out, formatResults(mergeResults(shards)));
  return 0;
}

/** θ(α) as an ONNX file. */
async function exportCommand(args: Args): Promise<number> {
  const { values } = args;
  if (!values.pair || values.alpha === undefined || !values.out) throw new Error('--pair, --alpha and --out are required');
  noPositionals('export', args);
  const alpha = alphaValue(values.alpha, '--alpha');
  const explorer = await openPair(values.pair, values.member);
  const written = await writeOnnx(values.out, await explorer.exportModel(alpha));
  await explorer.dispose();
  console.error(`wrote θ(${alpha}) to ${written.join(' and ')}`);
  return 0;
}

/**
 * `model` as one self-contained ONNX file at `out`; past a single file's 2 GB (`limit`), as
 * onnx.save_model(..., save_as_external_data=True) writes it: the graph at `out`, its weights in
 * `out`.data beside it, which the graph names. Returns the paths written.
 */
export async function writeOnnx(out: string, model: ModelProto, limit = ONE_FILE_WEIGHTS): Promise<string[]> {
  if (weightBytes(model) <= limit) {
    await writeFile(
      out,
      oneFileOnnx(model, (n) => `the model serializes to ${GB(n)}, more than a single ONNX file holds (protobuf's 2 GB)`, limit),
    );
    return [out];
  }
  const location = `${basename(out)}.data`;
  const split = splitOnnx(model, location);
  const dataPath = join(dirname(out), location);
  const data = await open(dataPath, 'w');
  try {
    for (const part of split.data) await data.writeFile(part);
  } finally {
    await data.close();
  }
  await writeFile(out, split.model);
  return [out, dataPath];
}

/** One line per member of the bundle, the default first. */
async function membersCommand({ values }: Args): Promise<number> {
  if (!values.pair) throw new Error('--pair is required');
  // The manifest alone: listing the members downloads no checkpoint.
  const m = parseManifest(await (await pairSource(values.pair)).read('manifest.json'));
  for (const [i, x] of m.models.members.entries()) {
    const sweeps = [x.sweeps?.weight && 'weight', x.sweeps?.output && 'output'].filter(Boolean).join(', ');
    console.log(
      [
        x.id,
        x.kind,
        x.seed !== undefined ? `seed ${x.seed}` : 'no seed',
        x.name,
        sweeps ? `recorded sweeps: ${sweeps}` : '',
        x.recommendedAlpha ? `recommended α ${x.recommendedAlpha.alpha.toFixed(2)} (${x.recommendedAlpha.chosenOn})` : '',
        i === 0 ? '(default)' : '',
      ]
        .filter(Boolean)
        .join('\t'),
    );
  }
  return 0;
}

/** The pair's layer groups, one line each in graph order: what --layers gives one α to. */
async function layersListCommand(args: Args): Promise<number> {
  const { values } = args;
  if (!values.pair) throw new Error('--pair is required');
  noPositionals('layers', args);
  const explorer = await openPair(values.pair, values.member);
  try {
    for (const [i, g] of explorer.current!.layers.entries())
      console.log(`${i + 1}\t${g.id}\t${g.tensors} tensor${g.tensors === 1 ? '' : 's'}`);
  } finally {
    await explorer.dispose();
  }
  return 0;
}

/** What fine-tuning moved, per tensor: the page's "What fine-tuning moved" table, tab-separated. */
async function movedCommand({ values, positionals }: Args): Promise<number> {
  if (positionals.length > 1) throw new Error(`moved takes one pair (got '${positionals[1]}' too)`);
  if (positionals.length === 1 && values.pair) throw new Error('moved: give the pair once, as an argument or with --pair');
  const pair = positionals[0] ?? values.pair;
  if (!pair) throw new Error('moved needs a pair: wiseft moved <dir|zip|manifest url>');
  const explorer = await openPair(pair, values.member);
  try {
    console.log(movedTableText(await explorer.moved()));
  } finally {
    await explorer.dispose();
  }
  return 0;
}

// A Map, not an object literal: a command named "constructor" is unknown, not Object's.
const COMMANDS = new Map<string, (args: Args) => Promise<number>>([
  ['eval', evalCommand],
  ['merge', mergeCommand],
  ['export', exportCommand],
  ['members', membersCommand],
  ['moved', movedCommand],
  ['layers', layersListCommand],
]);

/** Runs one command line; resolves to the exit status, rejects with a message for the user. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const args = parseArgs({ args: rest, allowPositionals: true, options: OPTIONS });
  if (!command || args.values.help || command === 'help') {
    console.log(HELP);
    return command ? 0 : 1;
  }
  const handler = COMMANDS.get(command);
  if (!handler) {
    console.error(`unknown command '${command}'\n\n${HELP}`);
    return 1;
  }
  return handler(args);
}

/** The process's entry (this file run directly, or `npx wiseft` through cli/bin.js): exits with main's status. */
export function run(argv: string[]): Promise<never> {
  return main(argv).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`wiseft: ${oneLine(e)}`);
      process.exit(1);
    },
  );
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!);
if (isMain) void run(process.argv.slice(2));
