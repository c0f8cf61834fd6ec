// Issue 13, the CLI: every hostile input fails within 60 s and 1.5 GB, with one line on stderr
// that names the file or argument, exit status 1 and no stack trace. The CLI runs as its own
// process (as a user runs it), its peak memory read from /proc; hostile hosts are Node servers on
// 127.0.0.1 (tests/support/hostileServer.ts).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, symlinkSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/wiseft';
import { makeTestBundle } from '../support/testBundle';
import { startHostileServer, type HostileServer } from '../support/hostileServer';
import { loadBundle } from '../../src/core/bundle/source';
import { dirSource } from '../../src/node/dirSource';
import { parseModel, serializeModel } from '../../src/core/onnx/model';
import { writeBundleDir } from '../support/testBundle';

interface Run {
  code: number | null;
  stderr: string;
  stdout: string;
  ms: number;
  peakBytes: number;
}

/** Runs the CLI as a user does (node + tsx), sampling its peak RSS (VmHWM) until it exits. */
function cli(args: string[], timeoutMs = 90_000): Promise<Run> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/wiseft.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let peak = 0;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const sample = setInterval(() => {
      try {
        const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
        peak = Math.max(peak, kb * 1024);
      } catch {
        // exited
      }
    }, 100);
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearInterval(sample);
      clearTimeout(kill);
      resolve({ code, stderr, stdout, ms: performance.now() - t0, peakBytes: peak });
    });
  });
}

/** What every failure must look like. */
function expectOneLineFailure(r: Run, message: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^wiseft: /);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at |onnxruntime_src|\[E:onnxruntime/);
  expect(r.code).toBe(1);
}

const writeBundle = (files: Map<string, Uint8Array>) => writeBundleDir(files, 'wiseft-hostile-');

const small = makeTestBundle({ seed: 3, sets: [{ id: 'reference', role: 'reference', count: 20 }] });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const manifestWith = (edit: (m: Record<string, any>) => void): Uint8Array => {
  const m = JSON.parse(new TextDecoder().decode(small.files.get('manifest.json')));
  edit(m);
  return new TextEncoder().encode(JSON.stringify(m));
};

let hs: HostileServer;
/** A port on 127.0.0.1 where nothing listens (not one of the Fetch standard's blocked ports). */
let closedPort = 0;
beforeAll(async () => {
  const { createServer } = await import('node:net');
  closedPort = await new Promise<number>((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => r(port));
    });
  });
  hs = await startHostileServer(small.files, { maxStreamMs: 80_000, lifetimeMs: 300_000 });
  const serve = (prefix: string, manifest: Uint8Array) => hs.route(`/${prefix}/manifest.json`, (_q, res) => void res.end(manifest));
  const redirectTo = (to: string) => (_q: unknown, res: import('node:http').ServerResponse) =>
    void res.writeHead(302, { Location: to }).end();
  // The model file streams forever: with a declared size, and without one (the 1.28 GB cap).
  serve(
    'endless-declared',
    manifestWith((m) => void (m.models.zeroShot = { path: 'zeroshot.onnx', bytes: 5_000_000 })),
  );
  hs.route('/endless-declared/zeroshot.onnx', hs.handler('/hostile/endless'));
  serve(
    'endless',
    manifestWith(() => undefined),
  );
  hs.route('/endless/zeroshot.onnx', hs.handler('/hostile/endless'));
  // A file that stalls after 1,000 bytes; a manifest that never completes.
  serve(
    'stall',
    manifestWith(() => undefined),
  );
  hs.route('/stall/zeroshot.onnx', hs.handler('/hostile/stall'));
  hs.route('/slow/manifest.json', hs.handler('/hostile/slow'));
  // Each file 302s to another host (here: another port, another origin).
  serve(
    'redirect',
    manifestWith(() => undefined),
  );
  hs.route('/redirect/zeroshot.onnx', redirectTo(`http://127.0.0.1:${closedPort}/zeroshot.onnx`));
});
afterAll(async () => hs?.close());

describe('item 13: arguments are parsed strictly and bounded', () => {
  it('a 10⁹-point α grid, empty and hexadecimal α are refused at once, naming the argument', async () => {
    const t0 = performance.now();
    await expect(main(['eval', '--pair', 'x', '--alphas', '0:1:1e-9'])).rejects.toThrow(
      /^--alphas '0:1:1e-9' has 1000000001 points; at most 10001/,
    );
    expect(performance.now() - t0).toBeLessThan(1000);
    await expect(main(['eval', '--pair', 'x', '--alphas', ''])).rejects.toThrow(/^--alphas is empty/);
    await expect(main(['eval', '--pair', 'x', '--alphas', '0,0x1'])).rejects.toThrow(/^--alphas: '0x1' is not a number between 0 and 1/);
    await expect(main(['eval', '--pair', 'x', '--alphas', '0:1'])).rejects.toThrow(/a range is start:stop:step/);
    await expect(main(['eval', '--pair', 'x', '--alphas', '0:2:0.5'])).rejects.toThrow(
      /--alphas stop: '2' is not a number between 0 and 1/,
    );
    await expect(main(['export', '--pair', 'x', '--alpha', '', '--out', 'y'])).rejects.toThrow(
      /^--alpha: '' is not a number between 0 and 1/,
    );
    await expect(main(['export', '--pair', 'x', '--alpha', '0x1', '--out', 'y'])).rejects.toThrow(/^--alpha: '0x1' is not a number/);
    await expect(main(['export', '--pair', 'x', '--alpha', ' 0.5e0 ', '--out', 'y', 'stray'])).rejects.toThrow(
      /export takes no positional arguments \(got 'stray'\)/,
    );
  });

  it('merge with no inputs is an error; an unreadable shard is named', async () => {
    await expect(main(['merge', '--out', join(tmpdir(), 'never.jsonl')])).rejects.toThrow(/^merge needs at least one shard file/);
    await expect(main(['merge', '/nonexistent/s0.jsonl', '--out', join(tmpdir(), 'never.jsonl')])).rejects.toThrow(
      /^could not read \/nonexistent\/s0\.jsonl: no such file/,
    );
  });
});

describe('item 16: a bundle folder cannot link out of itself', () => {
  it('a model file that is a symlink to a file outside the folder is refused, naming both', async () => {
    const outside = writeBundle(small.files);
    const dir = writeBundle(new Map([...small.files].filter(([p]) => p !== 'zeroshot.onnx')));
    symlinkSync(join(outside, 'zeroshot.onnx'), join(dir, 'zeroshot.onnx'));
    await expect(loadBundle(dirSource(dir))).rejects.toThrow(
      new RegExp(`^refusing to read ${dir}/zeroshot\\.onnx: it links to ${outside}/zeroshot\\.onnx, outside the bundle folder$`),
    );
    // A link inside the folder, and a bundle folder reached through a link, are fine.
    rmSync(join(dir, 'zeroshot.onnx'));
    cpSync(join(outside, 'zeroshot.onnx'), join(dir, 'real.onnx'));
    symlinkSync(join(dir, 'real.onnx'), join(dir, 'zeroshot.onnx'));
    const linkedDir = join(mkdtempSync(join(tmpdir(), 'wiseft-link-')), 'pair');
    symlinkSync(dir, linkedDir);
    expect((await loadBundle(dirSource(linkedDir))).zeroShot.byteLength).toBe(small.files.get('zeroshot.onnx')!.byteLength);
    // A FIFO would block a read forever.
    rmSync(join(dir, 'zeroshot.onnx'));
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [join(dir, 'zeroshot.onnx')]);
    await expect(loadBundle(dirSource(dir))).rejects.toThrow(/zeroshot\.onnx: not a regular file/);
  });
});

describe('items 2, 9, 14, 17: the CLI on hostile inputs fails within 60 s and 1.5 GB, in one line', () => {
  const LIMIT_MS = 60_000;
  const LIMIT_BYTES = 1.5e9;
  const url = (prefix: string) => `${hs.origin}/${prefix}/manifest.json`;

  it('every hostile host and bundle', { timeout: 200_000 }, async () => {
    const dir = (edit: (d: string) => void) => {
      const d = writeBundle(small.files);
      edit(d);
      return d;
    };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const setManifest = (d: string, edit: (m: Record<string, any>) => void) => writeFileSync(join(d, 'manifest.json'), manifestWith(edit));
    const opset99 = dir((d) => {
      for (const f of ['zeroshot.onnx', 'finetuned.onnx']) {
        const m = parseModel(readFileSync(join(d, f)));
        (m.proto as unknown as { opset_import: { version: number }[] }).opset_import[0]!.version = 99;
        writeFileSync(join(d, f), serializeModel(m));
      }
    });
    const attribute = dir((d) => {
      const m = parseModel(readFileSync(join(d, 'finetuned.onnx')));
      const conv = m.graph.node.find((n) => n.op_type === 'Conv')!;
      const strides = conv.attribute.find((a) => a.name === 'strides')!;
      strides.ints = [1, 1];
      writeFileSync(join(d, 'finetuned.onnx'), serializeModel(m));
    });
    const bigDeclared = dir((d) => setManifest(d, (m) => void (m.models.zeroShot.bytes = 2 ** 33)));
    const cases: { name: string; args: string[]; message: RegExp }[] = [
      {
        name: 'endless file, size declared',
        args: ['export', '--pair', url('endless-declared'), '--alpha', '0.5', '--out', '/dev/null'],
        message: /zeroshot\.onnx is larger than the 5000000 bytes the manifest declares \(stopped after \d+\)/,
      },
      {
        name: 'endless file, no size declared',
        args: ['export', '--pair', url('endless'), '--alpha', '0.5', '--out', '/dev/null'],
        message: /zeroshot\.onnx is larger than the limit of 1\.19 GiB per file \(stopped after 1\.19 GiB\)/,
      },
      {
        name: 'a file that stalls',
        args: ['export', '--pair', url('stall'), '--alpha', '0.5', '--out', '/dev/null'],
        message: /zeroshot\.onnx: 127\.0\.0\.1:\d+ sent nothing for 30 s/,
      },
      {
        name: 'a manifest that never completes',
        args: ['eval', '--pair', url('slow')],
        message: /manifest\.json: no complete answer from 127\.0\.0\.1:\d+ within 30 s/,
      },
      {
        name: 'a redirect to another origin',
        args: ['eval', '--pair', url('redirect')],
        message: new RegExp(`zeroshot\\.onnx: .* redirects to http://127\\.0\\.0\\.1:${closedPort}/zeroshot\\.onnx, on another origin`),
      },
      {
        name: 'a refused connection',
        args: ['eval', '--pair', `http://127.0.0.1:${closedPort}/pair/manifest.json`],
        message: new RegExp(`could not reach 127\\.0\\.0\\.1:${closedPort}: 127\\.0\\.0\\.1:${closedPort} refused the connection`),
      },
      {
        name: 'a blocked port',
        args: ['eval', '--pair', 'http://127.0.0.1:25/pair/manifest.json'],
        message: /port 25 of 127\.0\.0\.1 is on the Fetch standard's list of blocked ports/,
      },
      {
        name: 'credentials in the URL',
        args: ['eval', '--pair', `http://me:secret@127.0.0.1:${closedPort}/pair/manifest.json`],
        message: /carries a user name or password/,
      },
      {
        name: 'opset 99',
        args: ['eval', '--pair', opset99],
        message: /onnxruntime could not load zeroshot\.onnx \(whose graph serves both checkpoints\): ONNX Runtime only \*guarantees\*/,
      },
      {
        name: 'a node attribute mismatch',
        args: ['eval', '--pair', attribute],
        message: /attribute 'strides' is \[2, 2\] in the zero-shot model and \[1, 1\] in the fine-tuned model/,
      },
      {
        name: 'a declared size over the cap',
        args: ['eval', '--pair', bigDeclared],
        message: /zeroshot\.onnx has \d+ bytes but the manifest says 8589934592/,
      },
      {
        name: 'a 10⁹-point grid',
        args: ['eval', '--pair', bigDeclared, '--alphas', '0:1:1e-9'],
        message: /--alphas '0:1:1e-9' has 1000000001 points/,
      },
      { name: 'merge without inputs', args: ['merge', '--out', '/dev/null'], message: /merge needs at least one shard file/ },
    ];
    // Two at a time: the slow ones mostly wait, the endless ones use a core each.
    const results: [string, Run][] = [];
    const queue = [...cases];
    await Promise.all(
      [0, 1, 2].map(async () => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          const r = await cli(c.args);
          results.push([c.name, r]);
          console.log(
            `cli-hostile: ${c.name}: exit ${r.code} in ${(r.ms / 1000).toFixed(1)} s, peak ${(r.peakBytes / 1e9).toFixed(2)} GB: ${r.stderr.trim()}`,
          );
          expectOneLineFailure(r, c.message);
          expect(r.ms, c.name).toBeLessThan(LIMIT_MS);
          expect(r.peakBytes, c.name).toBeLessThan(LIMIT_BYTES);
        }
      }),
    );
    expect(results).toHaveLength(cases.length);
  });
});
