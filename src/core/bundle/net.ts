// Every byte of a pair that comes over the network comes through here, in the Worker and in the
// CLI alike: one reader that bounds what a hostile or broken host can do to us. A shared ?pair=
// link is enough to point the app at such a host, so nothing about the response is trusted:
//   - size: a file may not grow past what the manifest declares (checked while streaming, so an
//     endless body is cut off at once, not after it has filled memory), nor past a per-file cap;
//   - time: the manifest must arrive within a deadline, and every later file must keep sending
//     (an idle timeout, not a total one: a 300 MB checkpoint on a slow link is fine while it moves);
//   - place: redirects are followed only within the origin the user chose;
//   - cancel: the caller's AbortSignal stops the transfer (the UI's Cancel button).
// Failures are explained in words, and only what can be known is claimed: a browser's fetch
// rejects with the same bare TypeError for CORS, DNS, a refused connection and a CSP block.

/** Limits on one pair load; every field can be overridden (the tests use short timeouts). */
export interface NetLimits {
  /** Largest file accepted, whether or not the manifest declares its size. */
  maxFileBytes: number;
  /** Largest manifest.json accepted. */
  maxManifestBytes: number;
  /** A download that receives no byte for this long is abandoned. */
  idleMs: number;
  /** manifest.json must have arrived completely within this. */
  manifestMs: number;
}

/**
 * 1.28 GB per file: a ViT-L/14@336 image classifier in fp32 is 1.22 GB (304M parameters and a
 * 1,000-class head), the largest common CLIP tower that fits one ONNX protobuf at all (ViT-H/14 in
 * fp32 is 2.5 GB, over protobuf's 2 GiB ceiling; in fp16 it is 1.26 GB and fits too). Not 2 GiB:
 * an endless file cut off at the cap must leave the CLI under 1.5 GB of memory (measured: 1.48 GB
 * at a 1.34 GB cap, so 5% headroom over ViT-L/14 is what there is room for).
 * The manifest: 32 MiB holds a million eval-image labels (the JSON of the biggest sane manifest
 * is a few MB). 30 s of silence or for the manifest: longer than any live server takes to answer.
 */
export const DEFAULT_LIMITS: Readonly<NetLimits> = Object.freeze({
  maxFileBytes: 1.28e9,
  maxManifestBytes: 32 * 2 ** 20,
  idleMs: 30_000,
  manifestMs: 30_000,
});

export type DownloadFailure = 'cancelled' | 'timeout' | 'too-large' | 'network' | 'http' | 'redirect' | 'refused';

export class DownloadError extends Error {
  // The name loadBundle's callers already show for a bundle that cannot be loaded.
  override name = 'BundleError';
  constructor(
    message: string,
    readonly kind: DownloadFailure,
  ) {
    super(message);
  }
}

/** The Fetch standard's "bad ports": browsers and Node's fetch refuse them without a request. */
export const BAD_PORTS: ReadonlySet<number> = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117,
  119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636,
  989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

const mib = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);
const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '[::1]';
}

/**
 * What is wrong with fetching `url` from a page at `pageHref`, found without a request: the cases a
 * browser would refuse with a bare TypeError that names nothing. Null when nothing is known wrong.
 */
export function precheckUrl(url: URL, pageHref?: string): string | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `only http(s) URLs can be loaded, not '${url.protocol}'`;
  if (url.username || url.password)
    return `the URL ${url.protocol}//${url.host}${url.pathname} carries a user name or password ('user:pass@host'), which fetch refuses: remove it (a pair host must not need a login)`;
  const port = url.port === '' ? null : Number(url.port);
  if (port !== null && BAD_PORTS.has(port))
    return `port ${port} of ${url.hostname} is on the Fetch standard's list of blocked ports (it belongs to another protocol, e.g. mail or SSH): browsers never fetch from it; serve the pair on another port`;
  if (pageHref) {
    const page = new URL(pageHref);
    if (page.protocol === 'https:' && url.protocol === 'http:' && !isLoopback(url.hostname))
      return `${url.href} is plain http and this page is https: the browser blocks it as mixed content; use an https URL`;
  }
  return null;
}

// CSP violations the Worker saw (its global scope receives `securitypolicyviolation` for its own
// fetches): a rejected fetch whose URL is here was blocked by the policy, not by the network.
const violations: string[] = [];
export function watchCspViolations(scope: {
  addEventListener(type: 'securitypolicyviolation', fn: (e: { blockedURI: string; effectiveDirective?: string }) => void): void;
}): void {
  scope.addEventListener('securitypolicyviolation', (e) => {
    violations.push(e.blockedURI);
    if (violations.length > 50) violations.shift();
  });
}

/** The words for a fetch that rejected before any response: what is known, and what is not. */
export async function explainFetchFailure(url: URL, error: unknown, pageHref?: string): Promise<string> {
  const known = precheckUrl(url, pageHref);
  if (known) return `could not download ${url.href}: ${known}`;
  // The violation event is queued as a task; the rejection may come first.
  await new Promise((r) => setTimeout(r, 30));
  if (violations.some((v) => v === url.href || (v !== '' && url.href.startsWith(v)))) {
    return `could not download ${url.href}: this app's Content-Security-Policy does not allow fetching from ${url.origin} (connect-src allows the app's own origin and https: URLs)`;
  }
  // Node's fetch says why in `cause.code`; a browser says nothing.
  const code = (error as { cause?: { code?: string } })?.cause?.code;
  const byCode: Record<string, string> = {
    ENOTFOUND: `the name ${url.hostname} does not resolve (DNS)`,
    EAI_AGAIN: `the name ${url.hostname} could not be resolved right now (DNS)`,
    ECONNREFUSED: `${url.host} refused the connection (nothing listens there)`,
    ECONNRESET: `${url.host} closed the connection`,
    ETIMEDOUT: `the connection to ${url.host} timed out`,
    EHOSTUNREACH: `${url.hostname} is unreachable`,
    CERT_HAS_EXPIRED: `${url.host}'s TLS certificate has expired`,
    UND_ERR_SOCKET: `${url.host} closed the connection`,
  };
  if (code && byCode[code]) return `could not reach ${url.host}: ${byCode[code]}`;
  if (code) return `could not reach ${url.host}: ${code}`;
  const here = pageHref ? new URL(pageHref).origin : null;
  const cross = here !== null && here !== url.origin;
  return `could not reach ${url.host}. The browser does not say why; likely: the host is down or its name does not resolve, it refused the connection, or${cross ? ` it does not allow this page to read it (CORS: it must send 'Access-Control-Allow-Origin'), or` : ''} a firewall or extension blocked it. ${cross ? 'You can also download the bundle and drop its folder on the page.' : ''}`.trim();
}

export interface BoundedFetchOptions {
  fetchImpl?: typeof fetch;
  /** The user's Cancel. */
  signal?: AbortSignal;
  /** Redirects may not leave this origin (the manifest's). */
  origin: string;
  /** What the manifest declares: more is refused as soon as it arrives, less after the end. */
  expectedBytes?: number;
  /** The cap for this file. */
  maxBytes: number;
  idleMs: number;
  /** A deadline for the whole transfer (the manifest's), on top of the idle timeout. */
  totalMs?: number;
  /** The file's name in messages. */
  name: string;
  /** The page's URL, for mixed-content and CORS wording (absent in Node). */
  pageHref?: string;
  onProgress?: (loaded: number, total: number | null) => void;
}

const MAX_REDIRECTS = 5;

/** Downloads `url` within the bounds; the body's bytes, or a DownloadError saying what went wrong. */
export async function boundedFetch(href: string, o: BoundedFetchOptions): Promise<Uint8Array> {
  // With a declared size the bytes land in place (one copy of the file, not chunks + a copy).
  const exact = o.expectedBytes !== undefined && o.expectedBytes <= o.maxBytes ? new Uint8Array(o.expectedBytes) : null;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for await (const value of boundedStream(href, o, false)) {
    if (exact) exact.set(value, loaded);
    else chunks.push(value);
    loaded += value.byteLength;
  }
  if (exact) return loaded === exact.byteLength ? exact : exact.subarray(0, loaded);
  return concat(chunks, loaded);
}

/**
 * `url`'s body chunk by chunk, within the same bounds as boundedFetch (a checkpoint streamed into
 * the blend memory is never whole). With `reuse` (and a byte stream, as fetch bodies are) the body
 * is read into one 1 MiB buffer, so a download leaves no trail of chunks for the garbage collector
 * to find late (hundreds of MiB of a CLIP checkpoint): each chunk is then valid only until the next.
 */
export async function* boundedStream(href: string, o: BoundedFetchOptions, reuse = true): AsyncGenerator<Uint8Array> {
  const first = new URL(href);
  const known = precheckUrl(first, o.pageHref);
  if (known) throw new DownloadError(`could not download ${first.href}: ${known}`, 'refused');
  if (o.expectedBytes !== undefined && o.expectedBytes > o.maxBytes) {
    throw new DownloadError(
      `${o.name}: the manifest declares ${o.expectedBytes} bytes (${mib(o.expectedBytes)}), over the limit of ${mib(o.maxBytes)} per file`,
      'too-large',
    );
  }
  if (o.signal?.aborted) throw new DownloadError('the load was cancelled', 'cancelled');
  const watch = new TransferWatch(o, first.host);
  try {
    watch.touch();
    const { res, url } = await fetchWithinOrigin(href, o, watch);
    if (!res.ok) {
      void res.body?.cancel().catch(() => undefined);
      throw new DownloadError(`could not download ${url.href}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, 'http');
    }
    const limit = Math.min(o.expectedBytes ?? Infinity, o.maxBytes);
    const header = res.headers.get('content-length');
    const declared = header !== null && /^\d+$/.test(header) ? Number(header) : null;
    if (declared !== null && declared > limit) {
      void res.body?.cancel().catch(() => undefined);
      throw tooBig(o, declared, false);
    }
    // A compressed response's Content-Length counts the compressed bytes, fewer than the stream
    // gives: as a progress total it would read "27 MB of 8 MB". It still bounds the size from below.
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    yield* bodyChunks(res, url, o, watch, { limit, total: o.expectedBytes ?? (encoded ? null : declared), reuse });
  } finally {
    watch.dispose();
  }
}

/**
 * One controller stops the socket for every reason (the user's Cancel, the deadline, the idle
 * timeout, a limit), and remembers the first reason: the fetch's own error then says only "aborted".
 */
class TransferWatch {
  readonly ctl = new AbortController();
  why: DownloadError | null = null;
  /** The host now asked, for the timeout messages (a redirect may change it). */
  host: string;
  private idle: ReturnType<typeof setTimeout> | null = null;
  private readonly deadline: ReturnType<typeof setTimeout> | null;
  private readonly onCancel = () => this.stop(new DownloadError('the load was cancelled', 'cancelled'));

  constructor(
    private readonly o: BoundedFetchOptions,
    host: string,
  ) {
    this.host = host;
    o.signal?.addEventListener('abort', this.onCancel);
    const total = o.totalMs;
    this.deadline =
      total === undefined
        ? null
        : setTimeout(
            () =>
              this.stop(
                new DownloadError(
                  `${o.name}: no complete answer from ${this.host} within ${seconds(total)}; the server is too slow or not responding`,
                  'timeout',
                ),
              ),
            total,
          );
  }

  stop(e: DownloadError): void {
    this.why ??= e;
    this.ctl.abort();
  }

  /** Something arrived: the idle timeout starts again. */
  touch(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(
      () =>
        this.stop(
          new DownloadError(
            `${this.o.name}: ${this.host} sent nothing for ${seconds(this.o.idleMs)}; the download was abandoned`,
            'timeout',
          ),
        ),
      this.o.idleMs,
    );
  }

  dispose(): void {
    if (this.idle) clearTimeout(this.idle);
    if (this.deadline) clearTimeout(this.deadline);
    this.o.signal?.removeEventListener('abort', this.onCancel);
  }
}

/** The response for `url`, following at most MAX_REDIRECTS redirects and none off `o.origin`. */
async function fetchWithinOrigin(href: string, o: BoundedFetchOptions, watch: TransferWatch): Promise<{ res: Response; url: URL }> {
  const fetchImpl = o.fetchImpl ?? globalThis.fetch.bind(globalThis);
  let url = new URL(href);
  for (let hop = 0; ; hop++) {
    let r: Response;
    try {
      // 'manual': Node's fetch then hands us the 3xx with its Location, so a redirect to another
      // origin is refused before any request goes there. Browsers answer an opaque redirect
      // (status 0, no Location) instead: then follow, and check where the answer came from.
      r = await fetchImpl(url.href, { mode: 'cors', credentials: 'omit', redirect: 'manual', signal: watch.ctl.signal });
      if (r.type === 'opaqueredirect')
        r = await fetchImpl(url.href, { mode: 'cors', credentials: 'omit', redirect: 'follow', signal: watch.ctl.signal });
    } catch (e) {
      if (watch.why) throw watch.why;
      throw new DownloadError(await explainFetchFailure(url, e, o.pageHref), 'network');
    }
    watch.touch();
    if (r.url && new URL(r.url).origin !== o.origin) {
      void r.body?.cancel().catch(() => undefined);
      throw new DownloadError(
        `${o.name}: ${url.href} was redirected to ${r.url}, on another origin; only redirects within ${o.origin} are followed`,
        'redirect',
      );
    }
    if (!(r.status >= 300 && r.status < 400 && r.headers.get('location') !== null)) return { res: r, url };
    void r.body?.cancel().catch(() => undefined);
    const next = new URL(r.headers.get('location')!, url);
    if (next.origin !== o.origin)
      throw new DownloadError(
        `${o.name}: ${url.href} redirects to ${next.href}, on another origin; only redirects within ${o.origin} are followed`,
        'redirect',
      );
    if (hop >= MAX_REDIRECTS) throw new DownloadError(`${o.name}: more than ${MAX_REDIRECTS} redirects from ${href}`, 'redirect');
    url = next;
    watch.host = url.host;
  }
}

function tooBig(o: BoundedFetchOptions, n: number, stopped: boolean): DownloadError {
  return new DownloadError(
    o.expectedBytes !== undefined && o.expectedBytes <= o.maxBytes
      ? `${o.name} is larger than the ${o.expectedBytes} bytes the manifest declares${stopped ? ` (stopped after ${n})` : ` (the server says ${n})`}: the file was replaced or the server is misbehaving`
      : `${o.name} is larger than the limit of ${mib(o.maxBytes)} per file${stopped ? ` (stopped after ${mib(n)})` : ` (the server says ${mib(n)})`}`,
    'too-large',
  );
}

/** The body's chunks, stopped as soon as it passes `limit`; `total` is what progress reports as the size. */
async function* bodyChunks(
  res: Response,
  url: URL,
  o: BoundedFetchOptions,
  watch: TransferWatch,
  { limit, total, reuse }: { limit: number; total: number | null; reuse: boolean },
): AsyncGenerator<Uint8Array> {
  if (!res.body) {
    // No stream (some fetch polyfills): the size is checked after the fact only.
    const all = new Uint8Array(await res.arrayBuffer());
    if (all.byteLength > limit) throw tooBig(o, all.byteLength, true);
    o.onProgress?.(all.byteLength, total);
    yield all;
    return;
  }
  const reader = bodyReader(res.body, reuse);
  let loaded = 0;
  let finished = false;
  try {
    for (;;) {
      let value: Uint8Array | null;
      try {
        value = await reader.read();
      } catch (e) {
        if (watch.why) throw watch.why;
        throw new DownloadError(
          `${o.name}: the connection to ${url.host} broke after ${loaded} bytes (${(e as Error).message})`,
          'network',
        );
      }
      if (value === null) break;
      watch.touch();
      if (loaded + value.byteLength > limit) throw tooBig(o, loaded + value.byteLength, true);
      loaded += value.byteLength;
      o.onProgress?.(loaded, total);
      yield value;
    }
    finished = true;
  } finally {
    // Stopped early (a limit, the caller gave up): the socket goes too.
    if (!finished) {
      void reader.cancel().catch(() => undefined);
      watch.ctl.abort();
    }
  }
}

const SCRATCH_BYTES = 1 << 20;

/** The body's next chunk (null at its end): into one reused buffer where asked and the stream is a byte stream. */
function bodyReader(body: ReadableStream<Uint8Array>, reuse: boolean): { read(): Promise<Uint8Array | null>; cancel(): Promise<void> } {
  let byob: ReadableStreamBYOBReader | null = null;
  if (reuse) {
    try {
      byob = body.getReader({ mode: 'byob' });
    } catch {
      // Not a byte stream: its own chunks.
    }
  }
  if (!byob) {
    const r = body.getReader();
    return { read: async () => ((x) => (x.done ? null : x.value))(await r.read()), cancel: () => r.cancel() };
  }
  const b = byob;
  let buffer = new ArrayBuffer(SCRATCH_BYTES);
  return {
    async read() {
      const { done, value } = await b.read(new Uint8Array(buffer, 0, SCRATCH_BYTES));
      if (done || !value) return null;
      // The same memory, handed back by the read.
      buffer = value.buffer as ArrayBuffer;
      return value;
    },
    cancel: () => b.cancel(),
  };
}

function concat(chunks: readonly Uint8Array[], bytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
