// Issue 13, item 4: one Content-Security-Policy, said four times: vite.config.ts (the dev and
// preview headers, the <meta> tag), public/_headers (Netlify, Cloudflare Pages), public/.htaccess
// (Apache) and the README's table. A change to one that is not made to all fails here.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import config, { CSP, CSP_DIRECTIVES, META_CSP, DEV_CSP, SECURITY_HEADERS } from '../../vite.config';

const parsePolicy = (p: string) =>
  p
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean)
    .map((d) => {
      const [name, ...values] = d.split(/\s+/);
      return [name!, values.join(' ')] as const;
    });

function headersFile(): Record<string, string> {
  const out: Record<string, string> = {};
  let inAll = false;
  for (const line of readFileSync('public/_headers', 'utf8').split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    if (!/^\s/.test(line)) {
      inAll = line.trim() === '/*';
      continue;
    }
    const m = /^\s+([\w-]+):\s*(.*)$/.exec(line);
    if (inAll && m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

function htaccess(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of readFileSync('public/.htaccess', 'utf8').matchAll(/^\s*Header always set ([\w-]+) "([^"]*)"\s*$/gm)) out[m[1]!] = m[2]!;
  return out;
}

function readmeTable(): [string, string][] {
  const text = readFileSync('README.md', 'utf8');
  const start = text.indexOf('| directive | value | why |');
  expect(start).toBeGreaterThan(0);
  const rows = text.slice(start).split('\n').slice(2);
  const out: [string, string][] = [];
  for (const row of rows) {
    if (!row.startsWith('|')) break;
    const [, directive, value] = row.split('|').map((c) => c.trim());
    out.push([directive!.replace(/^`|`$/g, ''), value!.replace(/^`|`$/g, '')]);
  }
  return out;
}

describe('item 4: the CSP is the same everywhere it is written', () => {
  it('vite.config.ts: the header policy, the <meta> policy (no frame-ancestors) and the dev policy derive from one list', () => {
    expect(parsePolicy(CSP)).toEqual(CSP_DIRECTIVES);
    expect(parsePolicy(META_CSP)).toEqual(CSP_DIRECTIVES.filter(([d]) => d !== 'frame-ancestors'));
    expect(DEV_CSP).toBe(CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'"));
    expect(CSP).toMatch(/frame-ancestors 'none'/);
    expect(config.server?.headers).toMatchObject({ ...SECURITY_HEADERS, 'Content-Security-Policy': DEV_CSP });
    expect(config.preview?.headers).toMatchObject({ ...SECURITY_HEADERS, 'Content-Security-Policy': CSP });
    expect(SECURITY_HEADERS).toEqual({ 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
  });

  it('public/_headers and public/.htaccess send the same policy and headers as `npm run preview`', () => {
    const preview = config.preview?.headers as Record<string, string>;
    for (const file of [headersFile(), htaccess()]) {
      expect(parsePolicy(file['Content-Security-Policy']!)).toEqual(CSP_DIRECTIVES);
      expect(file).toEqual(preview);
    }
  });

  it("the README's table lists each directive with its value, in order", () => {
    expect(readmeTable()).toEqual(CSP_DIRECTIVES.map(([d, v]) => [d, v]));
    const readme = readFileSync('README.md', 'utf8');
    for (const [h, v] of Object.entries(SECURITY_HEADERS)) expect(readme).toContain(`\`${h}: ${v}\``);
  });
});
