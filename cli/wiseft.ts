#!/usr/bin/env -S npx tsx
// wiseft: the explorer's engine on the command line (Node, onnxruntime-node, the same core).
//   wiseft eval --pair <dir|url> [--member id] [--alphas 0:1:0.05] [--out results.jsonl] [--shard i/n]
//   wiseft merge <shard.jsonl>... --out results.jsonl
//   wiseft export --pair <dir|url> [--member id] --alpha 0.5 --out model.onnx
//   wiseft members --pair <dir|url>
import { parseArgs } from 'node:util';
import { readFile, writeFile } from 'node:fs/promises';
import { Explorer } from '../src/core/explorer';
import { loadBundle } from '../src/core/bundle/source';
import { parseManifest, UnknownMemberError } from '../src/core/bundle/manifest';
import { ortNode } from '../src/core/runtime/ort-node';
import { sourceFor } from '../src/node/dirSource';
import { parseAlphas, shardAlphas, toResultLine, formatResults, parseResults, mergeResults } from '../src/core/eval/results';

const HELP = `wiseft — evaluate and export WiSE-FT pairs headlessly

  wiseft eval    --pair <dir|manifest url> [--member id] [--alphas 0:1:0.05] [--out results.jsonl] [--shard i/n]
  wiseft merge   <shard.jsonl> [<shard.jsonl> ...] --out results.jsonl
  wiseft export  --pair <dir|manifest url> [--member id] --alpha 0.5 --out model.onnx
  wiseft members --pair <dir|manifest url>

eval writes wise-ft results (JSON lines: alpha, "<set>:top1", "<set>:n") for every α on every
eval set of the pair. --shard i/n evaluates every n-th α starting at i, for spreading a sweep
over machines; merge joins the shards into the file an unsharded run writes.
--member picks the fine-tuned member of a bundle with several (wiseft-pair/2; default: the
first); members lists them.`;

function progressBar(done: number, total: number, label: string): void {
  if (!process.stderr.isTTY && done !== total && done % 10 !== 0) return;
  const width = 30;
  const filled = Math.round((width * done) / Math.max(1, total));
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}   ${done === total ? '\n' : ''}`);
}

async function openPair(pair: string, member?: string): Promise<Explorer> {
  const explorer = new Explorer({ ort: ortNode, backend: 'cpu' });
  let bundle;
  try {
    // Only the selected member's checkpoint is read; an unknown id fails before any model is.
    bundle = await loadBundle(sourceFor(pair), undefined, { member: member ?? null, unknownMember: 'error' });
  } catch (e) {
    if (e instanceof UnknownMemberError) throw new Error(`--member: ${e.message}`, { cause: e });
    throw e;
  }
  await explorer.loadPair(bundle);
  return explorer;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      pair: { type: 'string' },
      alphas: { type: 'string', default: '0:1:0.05' },
      alpha: { type: 'string' },
      out: { type: 'string' },
      shard: { type: 'string' },
      member: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (!command || values.help || command === 'help') {
    console.log(HELP);
    return command ? 0 : 1;
  }
  if (command === 'eval') {
    if (!values.pair) throw new Error('--pair is required');
    const alphas = shardAlphas(parseAlphas(values.alphas!), values.shard);
    const explorer = await openPair(values.pair, values.member);
    const t0 = performance.now();
    await explorer.evaluate(alphas, null, (u) => progressBar(u.progress.done, u.progress.total, `α=${u.alpha.toFixed(2)}`));
    const snap = explorer.snapshot()!;
    const lines = alphas.map((a) => toResultLine(a, snap.points[String(a)] ?? {}));
    const text = formatResults(lines);
    if (values.out) await writeFile(values.out, text);
    else process.stdout.write(text);
    const images = lines.reduce((s, l) => s + Object.entries(l).filter(([k]) => k.endsWith(':n')).reduce((x, [, v]) => x + v, 0), 0);
    console.error(`evaluated ${alphas.length} α × ${explorer.current!.sets.length} sets (${images} images) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await explorer.dispose();
    return 0;
  }
  if (command === 'merge') {
    if (!values.out) throw new Error('--out is required');
    const shards = await Promise.all(positionals.map(async (p) => parseResults(await readFile(p, 'utf8'))));
    await writeFile(values.out, formatResults(mergeResults(shards)));
    return 0;
  }
  if (command === 'export') {
    if (!values.pair || values.alpha === undefined || !values.out) throw new Error('--pair, --alpha and --out are required');
    const alpha = Number(values.alpha);
    if (!(alpha >= 0 && alpha <= 1)) throw new Error('--alpha must be between 0 and 1');
    const explorer = await openPair(values.pair, values.member);
    await writeFile(values.out, await explorer.exportOnnx(alpha));
    await explorer.dispose();
    console.error(`wrote θ(${alpha}) to ${values.out}`);
    return 0;
  }
  if (command === 'members') {
    if (!values.pair) throw new Error('--pair is required');
    // The manifest alone: listing the members downloads no checkpoint.
    const m = parseManifest(await sourceFor(values.pair).read('manifest.json'));
    for (const [i, x] of m.models.members.entries()) {
      const sweeps = [x.sweeps?.weight && 'weight', x.sweeps?.output && 'output'].filter(Boolean).join(', ');
      console.log([x.id, x.kind, x.seed !== undefined ? `seed ${x.seed}` : 'no seed', x.name, sweeps ? `recorded sweeps: ${sweeps}` : '', i === 0 ? '(default)' : ''].filter(Boolean).join('\t'));
    }
    return 0;
  }
  console.error(`unknown command '${command}'\n\n${HELP}`);
  return 1;
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!);
if (isMain) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
    console.error(`wiseft: ${(e as Error).message}`);
    process.exit(1);
  });
}
