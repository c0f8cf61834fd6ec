import { chromium, type Page, type BrowserContext } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Session {
  page: Page;
  context: BrowserContext;
  errors: string[];
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

/**
 * A page in headless Debian Chromium with WebGPU on SwiftShader, a fresh profile and no background
 * traffic, collecting console and page errors for the assertions.
 */
export async function openPage(url: string, opts: OpenOptions = {}): Promise<Session> {
  const profile = mkdtempSync(join(tmpdir(), 'wiseft-chromium-'));
  const defaults = [
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ];
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [...defaults.filter((a) => !opts.withoutArgs?.includes(a)), ...(opts.args ?? [])],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await opts.beforeGoto?.(context);
  await page.goto(url);
  return {
    page,
    context,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
