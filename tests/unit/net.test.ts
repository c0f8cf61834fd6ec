// Issue 13: every download is bounded (size, time, place) and every failure says what it was.
// Node's own fetch against a misbehaving server on 127.0.0.1 (tests/support/hostileServer.ts).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { boundedFetch, precheckUrl, explainFetchFailure, DownloadError, DEFAULT_LIMITS, BAD_PORTS } from '../../src/core/bundle/net';
import { urlSource, loadBundle } from '../../src/core/bundle/source';
import { makeTestBundle } from '../support/testBundle';
import { startHostileServer, type HostileServer } from '../support/hostileServer';
import { createServer } from 'node:net';

let hs: HostileServer;
let other: HostileServer;
const bundle = makeTestBundle({ seed: 5, sets: [{ id: 'reference', role: 'reference', count: 20 }] });

beforeAll(async () => {
  hs = await startHostileServer(bundle.files, { maxStreamMs: 20_000, lifetimeMs: 120_000 });
  other = await startHostileServer(bundle.files, { lifetimeMs: 120_000 });
});
afterAll(async () => {
  await hs.close();
  await other.close();
});

const base = { idleMs: 2000, maxBytes: 1 << 20, name: 'f.onnx' };
const fail = async (p: Promise<unknown>): Promise<DownloadError> => {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(DownloadError);
  return e as DownloadError;
};

describe('item 2: downloads are bounded in size while they stream', () => {
  it('an endless file is cut off as soon as it passes the bytes the manifest declares', async () => {
    const t0 = performance.now();
    const e = await fail(
      boundedFetch(`${hs.origin}/hostile/endless`, {
        ...base,
        origin: hs.origin,
        expectedBytes: 100_000,
        maxBytes: DEFAULT_LIMITS.maxFileBytes,
      }),
    );
    expect(e.kind).toBe('too-large');
    expect(e.message).toMatch(/^f\.onnx is larger than the 100000 bytes the manifest declares \(stopped after \d+\)/);
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it('an endless file without a declared size stops at the per-file cap', async () => {
    const e = await fail(boundedFetch(`${hs.origin}/hostile/endless`, { ...base, origin: hs.origin, maxBytes: 4 << 20 }));
    expect(e.message).toMatch(/^f\.onnx is larger than the limit of 4\.0 MiB per file \(stopped after 4\.\d MiB\)/);
  });

  it('a Content-Length above the limit is refused before the body is read; a declared size above the cap before any request', async () => {
    const e = await fail(boundedFetch(`${hs.origin}/hostile/huge-length`, { ...base, origin: hs.origin }));
    expect(e.message).toMatch(/larger than the limit of 1\.0 MiB per file \(the server says 1024\.00 GiB\)/);
    const n = hs.seen.length;
    const e2 = await fail(boundedFetch(`${hs.origin}/pair/zeroshot.onnx`, { ...base, origin: hs.origin, expectedBytes: 2 ** 33 }));
    expect(e2.message).toMatch(/declares 8589934592 bytes \(8\.00 GiB\), over the limit of 1\.0 MiB per file/);
    expect(hs.seen.length).toBe(n);
  });

  it('the default cap admits a ViT-L/14 fp32 image classifier (1.22 GB) and stays under 1.5 GB', () => {
    expect(DEFAULT_LIMITS.maxFileBytes).toBeGreaterThan(304e6 * 4 + 10e6);
    expect(DEFAULT_LIMITS.maxFileBytes).toBeLessThan(1.4e9);
  });
});

describe('progress', () => {
  const body = new Uint8Array(3000).fill(7);
  const served = (headers: Record<string, string>) => () => Promise.resolve(new Response(body, { headers }));
  const progressOf = async (headers: Record<string, string>) => {
    const seen: [number, number | null][] = [];
    const bytes = await boundedFetch('http://127.0.0.1:8123/w.wasm', {
      ...base,
      origin: 'http://127.0.0.1:8123',
      fetchImpl: served(headers) as unknown as typeof fetch,
      onProgress: (loaded, total) => seen.push([loaded, total]),
    });
    expect(bytes).toEqual(body);
    return seen;
  };

  it('reports the Content-Length as the total of a plain response', async () => {
    expect((await progressOf({ 'content-length': '3000' })).at(-1)).toEqual([3000, 3000]);
  });

  it('reports no total for a compressed one, whose Content-Length counts fewer bytes than arrive', async () => {
    const seen = await progressOf({ 'content-length': '900', 'content-encoding': 'gzip' });
    expect(seen.at(-1)).toEqual([3000, null]);
    expect(seen.every(([, total]) => total === null)).toBe(true);
  });
});

describe('item 9: timeouts and Cancel', () => {
  it('a manifest that trickles in forever fails at the manifest deadline', async () => {
    const t0 = performance.now();
    hs.route('/slowpair/manifest.json', (_q, res) => {
      res.writeHead(200);
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 100);
      setTimeout(() => (clearInterval(t), res.destroyed || res.end()), 10_000);
    });
    const e = await fail(
      urlSource(`${hs.origin}/slowpair/manifest.json`, { limits: { manifestMs: 1500, idleMs: 1000 } }).read('manifest.json'),
    );
    expect(e.kind).toBe('timeout');
    expect(e.message).toMatch(/^manifest\.json: no complete answer from 127\.0\.0\.1:\d+ within 1\.5 s/);
    expect(performance.now() - t0).toBeLessThan(4000);
  });

  it('a server that answers and then falls silent is abandoned after the idle timeout', async () => {
    const e = await fail(boundedFetch(`${hs.origin}/hostile/stall`, { ...base, origin: hs.origin, idleMs: 800 }));
    expect(e.kind).toBe('timeout');
    expect(e.message).toMatch(/^f\.onnx: 127\.0\.0\.1:\d+ sent nothing for 0\.8 s; the download was abandoned/);
  });

  it('a server that never answers is abandoned after the idle timeout', async () => {
    const e = await fail(boundedFetch(`${hs.origin}/hostile/hang`, { ...base, origin: hs.origin, idleMs: 800 }));
    expect(e.kind).toBe('timeout');
  });

  it('Cancel stops a download mid-stream and says so', async () => {
    const ctl = new AbortController();
    const seen: number[] = [];
    const p = boundedFetch(`${hs.origin}/hostile/slow?every=50`, {
      ...base,
      origin: hs.origin,
      signal: ctl.signal,
      onProgress: (n) => seen.push(n),
    });
    setTimeout(() => ctl.abort(), 400);
    const e = await fail(p);
    expect(e.kind).toBe('cancelled');
    expect(e.message).toBe('the load was cancelled');
    expect(seen.length).toBeGreaterThan(0);
  });

  it("a whole bundle load is cancelled through urlSource's signal", async () => {
    const ctl = new AbortController();
    hs.route('/cancel/zeroshot.onnx', (_q, res) => {
      res.writeHead(200);
      res.write(new Uint8Array(10));
      setTimeout(() => res.destroyed || res.end(), 10_000);
    });
    hs.route('/cancel/manifest.json', (_q, res) => void res.end(bundle.files.get('manifest.json')));
    const p = loadBundle(urlSource(`${hs.origin}/cancel/manifest.json`, { signal: ctl.signal }));
    setTimeout(() => ctl.abort(), 300);
    const e = await fail(p);
    expect(e.kind).toBe('cancelled');
  });
});

describe('item 10: network failures say what is known', () => {
  it('credentials in the URL, a bad port and mixed content are named without a request', () => {
    expect(precheckUrl(new URL('https://user:pw@host.example/m.json'))).toMatch(/carries a user name or password/);
    expect(precheckUrl(new URL('https://host.example:25/m.json'))).toMatch(
      /port 25 of host.example is on the Fetch standard's list of blocked ports/,
    );
    expect(precheckUrl(new URL('http://host.example/m.json'), 'https://app.example/')).toMatch(/mixed content/);
    expect(precheckUrl(new URL('http://127.0.0.1:8000/m.json'), 'https://app.example/')).toBeNull();
    expect(precheckUrl(new URL('https://host.example:8443/m.json'), 'https://app.example/')).toBeNull();
    for (const p of [6000, 6665, 10080, 5060]) expect(BAD_PORTS.has(p)).toBe(true);
  });

  it('a refused connection is called one (Node can tell); the browser wording lists causes and does not claim CORS', async () => {
    const free = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => r(port));
      });
    });
    const e = await fail(boundedFetch(`http://127.0.0.1:${free}/m.json`, { ...base, origin: `http://127.0.0.1:${free}` }));
    expect(e.kind).toBe('network');
    expect(e.message).toBe(`could not reach 127.0.0.1:${free}: 127.0.0.1:${free} refused the connection (nothing listens there)`);
    // What a browser gives: a bare TypeError. Causes are listed, none is asserted.
    const msg = await explainFetchFailure(
      new URL('https://pairs.example/m.json'),
      new TypeError('Failed to fetch'),
      'https://app.example/',
    );
    expect(msg).toMatch(
      /^could not reach pairs\.example\. The browser does not say why; likely: .*refused the connection, or it does not allow this page to read it \(CORS/,
    );
    const e2 = await fail(boundedFetch('https://u:p@127.0.0.1:1/x', { ...base, origin: 'https://127.0.0.1:1' }));
    expect(e2.kind).toBe('refused');
    expect(e2.message).toMatch(/user name or password/);
  });
});

describe("item 17: redirects stay on the manifest's origin", () => {
  it('a file redirected to another origin is refused, and (in Node) no request reaches it', async () => {
    hs.route('/pair-r/manifest.json', (_q, res) => void res.end(bundle.files.get('manifest.json')));
    hs.route('/pair-r/zeroshot.onnx', (_q, res) => void res.writeHead(302, { Location: `${other.origin}/pair/zeroshot.onnx` }).end());
    const before = other.seen.length;
    const e = await fail(loadBundle(urlSource(`${hs.origin}/pair-r/manifest.json`)));
    expect(e.kind).toBe('redirect');
    expect(e.message).toBe(
      `zeroshot.onnx: ${hs.origin}/pair-r/zeroshot.onnx redirects to ${other.origin}/pair/zeroshot.onnx, on another origin; only redirects within ${hs.origin} are followed`,
    );
    expect(other.seen.length).toBe(before);
  });

  it('a redirect within the origin is followed', async () => {
    const bytes = await boundedFetch(`${hs.origin}/hostile/redirect?to=/pair/zeroshot.onnx`, {
      ...base,
      origin: hs.origin,
      maxBytes: DEFAULT_LIMITS.maxFileBytes,
    });
    expect(bytes).toEqual(new Uint8Array(bundle.files.get('zeroshot.onnx')!));
  });

  it('where fetch follows by itself (a browser: opaque redirect), the final URL is checked', async () => {
    // A fetch that behaves as Chromium's does with redirect: 'manual' and then 'follow'.
    const browserLike: typeof fetch = async (input, init) => {
      if (init?.redirect === 'manual')
        return Object.defineProperty(new Response(null, { status: 200 }), 'type', { value: 'opaqueredirect' });
      const r = await fetch(`${other.origin}/pair/zeroshot.onnx`);
      return Object.defineProperty(r, 'url', { value: `${other.origin}/pair/zeroshot.onnx` });
    };
    const e = await fail(boundedFetch(`${hs.origin}/pair/zeroshot.onnx`, { ...base, origin: hs.origin, fetchImpl: browserLike }));
    expect(e.message).toMatch(/was redirected to http:\/\/127\.0\.0\.1:\d+\/pair\/zeroshot\.onnx, on another origin/);
  });

  it('a well-behaved host still loads the bundle, with progress', async () => {
    const progress: string[] = [];
    const b = await loadBundle(urlSource(`${hs.origin}/pair/manifest.json`), (p) => progress.push(p.file));
    expect(b.zeroShot).toEqual(new Uint8Array(bundle.files.get('zeroshot.onnx')!));
    expect(progress).toContain('zeroshot.onnx');
  });
});
