// Helpers for reliability.browser.test.ts: test bundles served by the dev server from
// tests/.artifacts/, the Node engine's answers for them, and typed access to the page's store.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { makeTestBundle, memorySource, type BundleFiles } from '../../support/testBundle';
import { Explorer } from '../../../src/core/explorer';
import { loadBundle } from '../../../src/core/bundle/source';
import { ortNode } from '../../../src/core/runtime/ort-node';
import type { SetAccuracy } from '../../../src/core/eval/frontier';
import { PAIR_LOAD_MS, FULL_FRONTIER_MS, SHORT_MS } from '../../support/timeouts';

export { GRID } from '../../../src/worker/protocol';
export type Points = Record<string, Record<string, SetAccuracy>>;

export interface ServedBundle extends BundleFiles {
  /** Root-relative URL of manifest.json on the dev server. */
  path: string;
  bundleHash: string;
}

/**
 * Sets large enough that an evaluation takes a while on wasm (so it can be interrupted). The test
 * pair's model is tiny (8×8 inputs): a frontier over 3,500 images took under 2 s, done before a
 * test could interrupt it. 28,000 images keep an evaluation running for several seconds.
 */
export const BIG_SETS = [
  { id: 'reference', role: 'reference' as const, count: 16000 },
  { id: 'shiftA', role: 'shift' as const, count: 8000 },
  { id: 'shiftB', role: 'shift' as const, count: 4000, classes: [0, 2, 4] },
];

export async function serveBundle(name: string, opts: Parameters<typeof makeTestBundle>[0] = {}): Promise<ServedBundle> {
  const b = makeTestBundle(opts);
  const dir = join('tests/.artifacts', name);
  for (const [path, bytes] of b.files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  const loaded = await loadBundle(memorySource(b.files));
  return { ...b, path: `/tests/.artifacts/${name}/manifest.json`, bundleHash: loaded.bundleHash };
}

/** The Node engine (onnxruntime-node, CPU): an independent evaluation of the same bundle. */
export async function nodeExplorer(b: BundleFiles): Promise<Explorer> {
  const ex = new Explorer({ ort: ortNode, backend: 'cpu' });
  await ex.loadPair(await loadBundle(memorySource(b.files)));
  return ex;
}

export async function nodePoints(b: BundleFiles, alphas: readonly number[]): Promise<Points> {
  const ex = await nodeExplorer(b);
  await ex.evaluate(alphas, null, () => undefined);
  const points = ex.snapshot()!.points;
  await ex.dispose();
  return points;
}

/** Every set's count within one image of the reference (a near-tie may flip between ORT builds). */
export function pointsDiffer(got: Points, want: Points, alphas: readonly number[]): string[] {
  const bad: string[] = [];
  for (const a of alphas) {
    for (const [set, w] of Object.entries(want[String(a)] ?? {})) {
      const g = got[String(a)]?.[set];
      if (!g || g.n !== w.n || Math.abs(g.correct - w.correct) > 1)
        bad.push(`α=${a} ${set}: page ${g ? `${g.correct}/${g.n}` : 'missing'} vs node ${w.correct}/${w.n}`);
    }
  }
  return bad;
}

export { appState, withActions, withDebug } from './page';

export async function waitForPair(page: Page, bundleHash: string, timeout = PAIR_LOAD_MS): Promise<void> {
  const r = await page.waitForFunction(
    (h) => {
      const st = globalThis.wiseft?.store.getState();
      if (st?.pairError) return `pair error: ${st.pairError}`;
      if (st?.messages.some((m) => /could not start/.test(m.text))) return st.messages.map((m) => m.text).join(' | ');
      return st?.pair?.bundleHash === h && !st.loading ? 'ok' : false;
    },
    bundleHash,
    { timeout, polling: 200 },
  );
  const v = await r.jsonValue();
  if (v !== 'ok') throw new Error(String(v));
}

/** Waits until every α given has every set complete (n = total) and no evaluation runs. */
export async function waitForComplete(page: Page, alphas: readonly number[], timeout = FULL_FRONTIER_MS): Promise<void> {
  await page.waitForFunction(
    (as) => {
      const st = globalThis.wiseft!.store.getState();
      if (!st.pair || st.evaluating || st.resultsKey !== st.pair.resultsKey) return false;
      return as.every((a) =>
        st.pair!.sets.every((s) => {
          const p = st.points[String(a)]?.[s.id];
          return p !== undefined && p.n === p.total;
        }),
      );
    },
    alphas,
    { timeout, polling: 250 },
  );
}

/**
 * Full garbage collections in the page and in every Worker it started, through the DevTools
 * protocol (ORT's own thread Workers, nested in ours, are left alone: pausing one mid-Atomics.wait
 * can take the page down).
 */
export async function collectGarbage(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const sessions: string[] = [];
    const replies = new Map<number, () => void>();
    cdp.on('Target.attachedToTarget', (e) => {
      if (e.targetInfo.type === 'worker') sessions.push(e.sessionId);
    });
    cdp.on('Target.receivedMessageFromTarget', (e) => replies.get((JSON.parse(e.message) as { id: number }).id)?.());
    await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    await new Promise((r) => setTimeout(r, 300));
    let id = 0;
    for (const sessionId of sessions) {
      const n = ++id;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('a Worker did not answer HeapProfiler.collectGarbage')), SHORT_MS);
        replies.set(n, () => (clearTimeout(timer), resolve()));
        void cdp.send('Target.sendMessageToTarget', {
          sessionId,
          message: JSON.stringify({ id: n, method: 'HeapProfiler.collectGarbage' }),
        });
      });
    }
    await cdp.send('HeapProfiler.collectGarbage');
  } finally {
    await cdp.detach();
  }
}
