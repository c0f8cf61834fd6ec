// Issue 13 in the browser: the CSP header governs the Worker, a load can be cancelled and times
// out, a relative ?pair= is the page's, redirects stay on the manifest's origin, and failures say
// what they were. Chromium against the Vite dev server and Node servers, all on 127.0.0.1.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { MEDIUM_TEST_MS, PAIR_LOAD_MS, SLOW_UPDATE_MS, UI_UPDATE_MS } from '../support/timeouts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withPage, type Session } from './setup/chromium';
import { serveBundle, appState, withDebug, waitForPair, withActions, type ServedBundle } from './setup/reliability';
import { startHostileServer, type HostileServer } from '../support/hostileServer';
import { DEV_CSP } from '../../vite.config';

let P: ServedBundle;
let Q: ServedBundle;
let other: HostileServer;

beforeAll(async () => {
  P = await serveBundle('net-p', { seed: 41, sets: [{ id: 'reference', role: 'reference', count: 20 }] });
  Q = await serveBundle('net-q', { seed: 42, sets: [{ id: 'reference', role: 'reference', count: 20 }] });
  // Another origin (another port), with CORS: only the CSP can stop a request to it.
  other = await startHostileServer(P.files, { lifetimeMs: 600_000 });
});
afterAll(async () => other?.close());

const base = () => inject('baseUrl');
function appUrl(pair: string | null, hash = ''): string {
  const u = new URL(base());
  if (pair !== null) u.searchParams.set('pair', pair);
  u.hash = hash;
  return u.href;
}

// Each message's text, without its dismiss button (×).
const messages = (s: Session) =>
  s.page.evaluate(() => [...document.querySelectorAll('[data-testid^="message-"]')].map((m) => (m.textContent ?? '').replace(/×$/, '')));
async function waitForMessage(s: Session, re: RegExp, timeout = UI_UPDATE_MS): Promise<string> {
  await s.page.waitForFunction(
    (src) => [...document.querySelectorAll('[data-testid^="message-"]')].some((m) => new RegExp(src).test(m.textContent ?? '')),
    re.source,
    { timeout },
  );
  return (await messages(s)).find((m) => re.test(m))!;
}

describe('item 4: the Content-Security-Policy is a header, and it governs the Worker', () => {
  it("the dev server sends the policy, nosniff and the referrer policy on the page and on the Worker's script", async () => {
    for (const path of ['', 'src/worker/explorer.worker.ts?worker_file&type=module']) {
      const res = await fetch(new URL(path, base()));
      await res.body?.cancel();
      expect(res.headers.get('content-security-policy'), path).toBe(DEV_CSP);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
    expect(DEV_CSP).toMatch(/frame-ancestors 'none'/);
  });

  it('an http:// pair on another port is blocked in the Worker too, and the message says it was the policy (item 10)', async () => {
    const url = `${other.origin}/pair/manifest.json`;
    const seen = other.seen.length;
    await withPage(appUrl(null), async (s) => {
      await s.page.waitForFunction(
        () => globalThis.wiseft?.store.getState().pair && !globalThis.wiseft!.store.getState().loading,
        undefined,
        { timeout: PAIR_LOAD_MS },
      );
      const before = await appState(s.page, (st) => st.pair!.bundleHash);
      await withActions(s.page, (a, u) => a.loadPair({ kind: 'url', url: u }, u), url);
      const m = await waitForMessage(s, /Could not load/);
      expect(m).toContain(
        `Could not load ${url}: could not download ${url}: this app's Content-Security-Policy does not allow fetching from ${other.origin}`,
      );
      expect(m).toMatch(/\. The previous pair is still loaded\.$/);
      // The page's own fetch is blocked as well (the policy was always there for the page).
      expect(
        await s.page.evaluate(
          (u) =>
            fetch(u).then(
              () => 'loaded',
              () => 'blocked',
            ),
          url,
        ),
      ).toBe('blocked');
      expect(await appState(s.page, (st) => st.pair!.bundleHash)).toBe(before);
    });
    expect(other.seen.length).toBe(seen);
  });
});

describe('item 9: a load can be cancelled, and a silent host times out', () => {
  it('a ?pair= manifest that never answers: the loading bar has a Cancel; it cancels, says so, and the bundled pair opens', async () => {
    await withPage(
      appUrl('tests/.artifacts/net-hang/manifest.json'),
      async (s) => {
        const cancel = s.page.locator('[data-testid="cancel-load"]');
        await cancel.waitFor({ timeout: SLOW_UPDATE_MS });
        expect(await s.page.textContent('.loading')).toMatch(/Loading .*net-hang\/manifest\.json/);
        await cancel.click();
        const m = await waitForMessage(s, /Could not load/);
        expect(m).toMatch(/^Could not load .*net-hang\/manifest\.json: the load was cancelled\.$/);
        await s.page.waitForFunction(() => globalThis.wiseft!.store.getState().pair !== null, undefined, { timeout: PAIR_LOAD_MS });
        expect(await s.page.locator('[data-testid="cancel-load"]').count()).toBe(0);
      },
      {
        beforeGoto: async (ctx) => {
          // A host that accepts the request and never answers.
          await ctx.route(/net-hang\/manifest\.json/, () => undefined);
        },
      },
    );
  });

  it('with the manifest deadline at 1.5 s, a silent host fails the load in words and the previous pair stays', async () => {
    await withPage(
      appUrl(P.path),
      async (s) => {
        await waitForPair(s.page, P.bundleHash);
        await withDebug(s.page, (d) => d.setNetLimits({ manifestMs: 1500, idleMs: 10_000 }));
        const url = new URL('tests/.artifacts/net-hang2/manifest.json', base()).href;
        const t0 = Date.now();
        await withActions(s.page, (a, u) => a.loadPair({ kind: 'url', url: u }, u), url);
        const m = await waitForMessage(s, /Could not load/);
        expect(Date.now() - t0).toBeLessThan(20_000);
        expect(m).toMatch(
          /^Could not load .*net-hang2\/manifest\.json: manifest\.json: no complete answer from 127\.0\.0\.1:\d+ within 1\.5 s; the server is too slow or not responding\. The previous pair is still loaded\.$/,
        );
        expect(await appState(s.page, (st) => st.pair!.bundleHash)).toBe(P.bundleHash);
      },
      { beforeGoto: async (ctx) => void (await ctx.route(/net-hang2\/manifest\.json/, () => undefined)) },
    );
  });
});

describe('item 11: a relative ?pair= is relative to the page', () => {
  it('?pair=tests/.artifacts/net-q/manifest.json opens that pair', async () => {
    await withPage(appUrl(Q.path.replace(/^\//, '')), async (s) => {
      await waitForPair(s.page, Q.bundleHash);
      expect(s.errors).toEqual([]);
    });
  });
});

/** An https server on 127.0.0.1 with a throwaway self-signed certificate (Chromium runs with --ignore-certificate-errors). */
async function tlsServer(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'wiseft-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `https://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe("item 2: an endless model file from a shared link does not fill the browser's memory", () => {
  it(
    'cut off at the declared bytes, and (without them) at the per-file cap, with the previous pair kept',
    { timeout: MEDIUM_TEST_MS },
    async () => {
      // A host the CSP allows (https), with CORS, whose zeroshot.onnx never ends: 64 KiB chunks for
      // at most 60 s. The first manifest declares 3 MB for it; the second declares nothing.
      const m = JSON.parse(new TextDecoder().decode(P.files.get('manifest.json')));
      const declared = new TextEncoder().encode(
        JSON.stringify({ ...m, models: { ...m.models, zeroShot: { path: 'zeroshot.onnx', bytes: 3_000_000 } } }),
      );
      let streamed = 0;
      const host = await tlsServer((req, res) => {
        res.setHeader('Access-Control-Allow-Origin', '*');
        const path = new URL(req.url ?? '/', 'https://x').pathname;
        if (path.endsWith('/manifest.json')) return void res.end(path.startsWith('/declared/') ? declared : P.files.get('manifest.json'));
        if (!path.endsWith('/zeroshot.onnx')) return void res.end(P.files.get(path.split('/').slice(2).join('/')) ?? '');
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        const chunk = new Uint8Array(65_536);
        const t0 = Date.now();
        const pump = () => {
          while (!res.destroyed && Date.now() - t0 < 60_000) {
            streamed += chunk.byteLength;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      });
      try {
        await withPage(
          appUrl(P.path),
          async (s) => {
            await waitForPair(s.page, P.bundleHash);
            const load = async (url: string) => {
              await withActions(s.page, (a, u) => a.loadPair({ kind: 'url', url: u }, u), url);
              const text = await waitForMessage(s, new RegExp(`Could not load ${url.replace(/[.?]/g, '\\$&')}`), SLOW_UPDATE_MS);
              await s.page.click('[data-testid^="message-"] button').catch(() => undefined);
              return text;
            };
            const t0 = Date.now();
            expect(await load(`${host.origin}/declared/manifest.json`)).toMatch(
              /zeroshot\.onnx is larger than the 3000000 bytes the manifest declares \(stopped after \d+\)/,
            );
            console.log(`network: declared 3 MB, stopped in ${Date.now() - t0} ms; the host had sent ${(streamed / 1e6).toFixed(1)} MB`);
            // The default cap is 1.28 GB; a lower one here keeps the test short, through the same path.
            await withDebug(s.page, (d) => d.setNetLimits({ maxFileBytes: 20_000_000 }));
            expect(await load(`${host.origin}/undeclared/manifest.json`)).toMatch(
              /zeroshot\.onnx is larger than the limit of 19\.1 MiB per file \(stopped after \d+\.\d MiB\)/,
            );
            expect(await appState(s.page, (st) => st.pair!.bundleHash)).toBe(P.bundleHash);
          },
          { args: ['--ignore-certificate-errors'] },
        );
      } finally {
        await host.close();
      }
    },
  );
});

describe("item 17: redirects stay on the manifest's origin (in Chromium)", () => {
  it('a model file 302ed to another origin (an https host that would serve it, CORS and all) is refused', async () => {
    // The other origin: https on 127.0.0.1 (the CSP lets https: through, so only the redirect
    // check can stop it).
    let targetHits = 0;
    const tls = await tlsServer((_req, res) => {
      targetHits++;
      res
        .writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/octet-stream' })
        .end(Buffer.from(P.files.get('zeroshot.onnx')!));
    });
    const target = `${tls.origin}/elsewhere/zeroshot.onnx`;
    try {
      await withPage(
        appUrl(P.path),
        async (s) => {
          await waitForPair(s.page, P.bundleHash);
          const url = new URL('tests/.artifacts/net-p/manifest.json?r=1', base()).href;
          await withActions(s.page, (a, u) => a.loadPair({ kind: 'url', url: u }, u), url);
          const m = await waitForMessage(s, /Could not load/);
          // Measured: Chromium answers redirect: 'manual' with an opaque redirect (status 0, no
          // Location), so the reader follows and checks where the answer came from; the bytes are
          // refused, but the other host did see the request (Node's fetch never sends it).
          expect(m).toContain(
            `zeroshot.onnx: ${new URL('tests/.artifacts/net-p/zeroshot.onnx', base()).href} was redirected to ${target}, on another origin; only redirects within ${new URL(base()).origin} are followed.`,
          );
          expect(await appState(s.page, (st) => st.pair!.bundleHash)).toBe(P.bundleHash);
        },
        {
          args: ['--ignore-certificate-errors'],
          beforeGoto: async (ctx) => {
            // Only the second load (?r=1) is redirected; the first is cached under its own URL.
            let n = 0;
            await ctx.route(/net-p\/zeroshot\.onnx/, async (route) => {
              if (n++ === 0) return route.continue();
              await route.fulfill({ status: 302, headers: { Location: target, 'Access-Control-Allow-Origin': '*' } });
            });
          },
        },
      );
    } finally {
      await tls.close();
    }
    console.log(`network: the redirect target was requested ${targetHits} time(s)`);
    expect(targetHits).toBeGreaterThan(0);
  });
});
