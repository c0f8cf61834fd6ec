// A misbehaving pair host for the network tests: Node's http on 127.0.0.1 (never any other
// address), serving real bundle files beside endless, slow, stalled and redirecting ones. It is
// bounded: every endless body stops after `maxStreamMs` or `maxStreamBytes`, and the server closes
// itself after `lifetimeMs`, so a test that forgets it cannot leave it running.
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

export interface HostileServer {
  origin: string;
  /** Every request path the server saw, in order. */
  seen: string[];
  route(path: string, handler: Handler): void;
  /** A route's handler, e.g. a built-in '/hostile/endless', to serve it under another path too. */
  handler(path: string): Handler;
  close(): Promise<void>;
}

export interface HostileOptions {
  lifetimeMs?: number;
  maxStreamMs?: number;
  maxStreamBytes?: number;
}

export async function startHostileServer(files: Map<string, Uint8Array> = new Map(), opts: HostileOptions = {}): Promise<HostileServer> {
  const lifetimeMs = opts.lifetimeMs ?? 120_000;
  const maxStreamMs = opts.maxStreamMs ?? 60_000;
  const maxStreamBytes = opts.maxStreamBytes ?? 4 * 2 ** 30;
  const routes = new Map<string, Handler>();
  const seen: string[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    seen.push(url.pathname);
    res.setHeader('Access-Control-Allow-Origin', '*');
    const h = routes.get(url.pathname);
    if (h) return h(req, res, url);
    const f = files.get(url.pathname.replace(/^\/pair\//, ''));
    if (f && url.pathname.startsWith('/pair/')) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': f.byteLength });
      res.end(f);
      return;
    }
    res.writeHead(404).end('not found');
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const t of timers) clearTimeout(t);
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  const life = setTimeout(() => void close(), lifetimeMs);
  life.unref();
  const hs: HostileServer = {
    origin: `http://127.0.0.1:${port}`,
    seen,
    route: (path, handler) => void routes.set(path, handler),
    handler: (path) => {
      const h = routes.get(path);
      if (!h) throw new Error(`no route ${path}`);
      return h;
    },
    close,
  };
  // Built-in misbehaviours, under /hostile/…
  const chunk = new Uint8Array(64 * 1024).fill(0x42);
  /** Writes `chunk` as fast as the client reads, until a bound; no Content-Length. */
  hs.route('/hostile/endless', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    const t0 = Date.now();
    let sent = 0;
    const pump = () => {
      while (!res.destroyed && Date.now() - t0 < maxStreamMs && sent < maxStreamBytes) {
        sent += chunk.byteLength;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  /** One byte every `every` ms (default 200): never idle, never done. */
  hs.route('/hostile/slow', (_req, res, url) => {
    const every = Number(url.searchParams.get('every') ?? 200);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const t0 = Date.now();
    const tick = () => {
      if (res.destroyed || Date.now() - t0 > maxStreamMs) return void res.end();
      res.write(' ');
      const t = setTimeout(tick, every);
      timers.add(t);
    };
    tick();
  });
  /** Headers and a few bytes, then silence (until the bound). */
  hs.route('/hostile/stall', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    res.write(chunk.subarray(0, 1000));
    const t = setTimeout(() => res.end(), maxStreamMs);
    timers.add(t);
  });
  /** No response at all (until the bound). */
  hs.route('/hostile/hang', (_req, res) => {
    const t = setTimeout(() => res.destroy(), maxStreamMs);
    timers.add(t);
  });
  /** A Content-Length far above what is sent. */
  hs.route('/hostile/huge-length', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(2 ** 40) });
    res.write(chunk);
    const t = setTimeout(() => res.destroy(), maxStreamMs);
    timers.add(t);
  });
  /** 302 to ?to=<url>. */
  hs.route('/hostile/redirect', (_req, res, url) => {
    res.writeHead(302, { Location: url.searchParams.get('to') ?? '/' }).end();
  });
  return hs;
}
