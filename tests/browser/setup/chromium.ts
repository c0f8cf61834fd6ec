import { chromium, type Page, type BrowserContext } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../support/chromiumArgs';
import { mkdtempSync, rmSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Session {
  page: Page;
  context: BrowserContext;
  errors: string[];
  /** The fresh profile folder, which names this Chromium's processes. */
  profile: string;
  close: () => Promise<void>;
}

export interface OpenOptions {
  /** Extra Chromium switches (e.g. '--js-flags=--expose-gc'). */
  args?: string[];
  /** Default switches to leave out (e.g. '--enable-unsafe-webgpu', for a browser without WebGPU). */
  withoutArgs?: string[];
  /** Called before the first navigation (e.g. to record every request of the context). */
  beforeGoto?: (context: BrowserContext) => void | Promise<void>;
}

const DEFAULT_ARGS = CHROMIUM_ARGS;

/** What every test's page gets before it opens: the test flag and a silent HMR socket. */
async function prepareForTest(context: BrowserContext): Promise<void> {
  // The app serves its engine's debug hooks (globalThis.wiseft.debug) only to a page that says it is a test's.
  await context.addInitScript(() => {
    (globalThis as { __WISEFT_TEST__?: boolean }).__WISEFT_TEST__ = true;
  });
  // An edit under src/ while browser tests run would make Vite's HMR socket reload the page
  // mid-test, so a mocked socket that never says anything keeps the page as the test left it.
  await context.routeWebSocket(/./, () => undefined);
}

/**
 * A page in headless Debian Chromium with WebGPU on SwiftShader, a fresh profile and no background
 * traffic, collecting console and page errors for the assertions.
 */
export async function openPage(url: string, opts: OpenOptions = {}): Promise<Session> {
  const profile = mkdtempSync(join(tmpdir(), 'wiseft-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [...DEFAULT_ARGS.filter((a) => !opts.withoutArgs?.includes(a)), ...(opts.args ?? [])],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await prepareForTest(context);
  await opts.beforeGoto?.(context);
  await page.goto(url);
  return {
    page,
    context,
    errors,
    profile,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Proportional set size (KiB → bytes) of one Chromium and every process below it: browser, GPU
 * (SwiftShader's buffers), renderer (page, Workers, wasm memories). Linux /proc only.
 */
export function chromiumMemory(profile: string): number {
  const procs = new Map<number, { ppid: number; cmd: string }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      procs.set(Number(d), { ppid, cmd: readFileSync(`/proc/${d}/cmdline`, 'utf8') });
    } catch {
      // exited meanwhile
    }
  }
  const roots = [...procs]
    .filter(([, p]) => p.cmd.includes(`--user-data-dir=${profile}`) && !procs.get(p.ppid)?.cmd.includes(`--user-data-dir=${profile}`))
    .map(([pid]) => pid);
  if (roots.length === 0) throw new Error(`no Chromium runs with the profile ${profile}`);
  const tree = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, p] of procs) {
      if (!tree.has(pid) && tree.has(p.ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  let kib = 0;
  for (const pid of tree) {
    try {
      kib += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return kib * 1024;
}

/** A page for one test, closed after it. */
export async function withPage<T>(url: string, fn: (s: Session) => Promise<T>, opts: OpenOptions = {}): Promise<T> {
  const s = await openPage(url, opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
