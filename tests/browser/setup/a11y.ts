// Accessibility checks run in the page, for a11y.browser.test.ts: axe-core (Deque's engine, a
// devDependency) over the whole page, plus our own checks of what axe cannot see or rates lower:
// text contrast computed from the painted colours (WCAG 1.4.3, 4.5:1; 3:1 for large text), a name
// for every control (from the browser's own accessibility tree, over the DevTools protocol), every
// visible control reached by Tab, and no label that only a mouse can use.
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import type { AxeResults } from 'axe-core';

export interface ContrastFailure {
  text: string;
  ratio: number;
  needed: number;
  color: string;
  background: string;
}

/** One visible text as the page paints it: its ink and the backgrounds behind it, innermost first. */
interface PaintedText {
  text: string;
  ink: string;
  opacity: number;
  backgrounds: string[];
  fontSize: number;
  fontWeight: number;
}

/** Every visible text of the page (not disabled controls, which WCAG exempts, nor hidden or screen-reader-only text). */
function paintedTexts(page: Page): Promise<PaintedText[]> {
  return page.evaluate(() => {
    const out: PaintedText[] = [];
    const done = new Set<Element>();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || done.has(el) || !n.textContent?.trim()) continue;
      done.add(el);
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (r.width < 2 || r.height < 2 || style.visibility === 'hidden') continue;
      if (el.closest('.sr-only, [aria-hidden="true"], option, button:disabled, input:disabled, select:disabled')) continue;
      const backgrounds: string[] = [];
      let opacity = 1;
      for (let e: Element | null = el; e; e = e.parentElement) {
        const s = getComputedStyle(e);
        opacity *= Number(s.opacity);
        // SVG shapes have no CSS background: what is behind an SVG text is the HTML around the chart.
        if (!(e instanceof SVGElement) || e instanceof SVGSVGElement) backgrounds.push(s.backgroundColor);
      }
      const ink = el instanceof SVGElement ? style.fill : style.color;
      out.push({
        text: n.textContent.trim().slice(0, 60),
        ink,
        opacity,
        backgrounds,
        fontSize: parseFloat(style.fontSize),
        fontWeight: Number(style.fontWeight),
      });
    }
    return out;
  });
}

type RGBA = [number, number, number, number];

function parseColor(c: string): RGBA {
  const m = /rgba?\(([^)]+)\)/.exec(c);
  if (!m) return [0, 0, 0, 0];
  const p = m[1]!
    .split(/[,\s/]+/)
    .filter(Boolean)
    .map(Number);
  return [p[0]!, p[1]!, p[2]!, p[3] ?? 1];
}

/** `top` painted over `bottom` (source-over). */
function over(top: RGBA, bottom: RGBA): RGBA {
  const a = top[3] + bottom[3] * (1 - top[3]);
  if (a === 0) return [0, 0, 0, 0];
  const mix = (i: number) => (top[i]! * top[3] + bottom[i]! * bottom[3] * (1 - top[3])) / a;
  return [mix(0), mix(1), mix(2), a];
}

/** WCAG 2's relative luminance. */
function luminance([r, g, b]: RGBA): number {
  const f = (v: number) => (v / 255 <= 0.04045 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}

/** The contrast of one painted text, and what WCAG 1.4.3 asks of it (3:1 for large text, else 4.5:1). */
export function contrastOf(t: PaintedText): ContrastFailure {
  // The page's canvas is white; backgrounds are composited from the outermost in.
  const bg = t.backgrounds.map(parseColor).reduceRight<RGBA>((acc, layer) => over(layer, acc), [255, 255, 255, 1]);
  const ink = parseColor(t.ink);
  const fg = over([ink[0], ink[1], ink[2], ink[3] * t.opacity], bg);
  const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a) as [number, number];
  const large = t.fontSize >= 24 || (t.fontSize >= 18.66 && t.fontWeight >= 700);
  const rgb = (c: RGBA) => `rgb(${c.slice(0, 3).map(Math.round).join(',')})`;
  return {
    text: t.text,
    ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100,
    needed: large ? 3 : 4.5,
    color: rgb(fg),
    background: rgb(bg),
  };
}

/** Every visible text whose contrast against what lies behind it is under WCAG 1.4.3's minimum. */
export async function contrastFailures(page: Page): Promise<ContrastFailure[]> {
  return (await paintedTexts(page)).map(contrastOf).filter((c) => c.ratio < c.needed - 0.005);
}

/** Roles that need a name to be usable (axe's button-name, label, select-name, aria-input-field-name), and the chart's figure. */
const NAMED_ROLES = [
  'button',
  'textbox',
  'combobox',
  'slider',
  'checkbox',
  'link',
  'spinbutton',
  'listbox',
  'radio',
  'switch',
  'searchbox',
  'figure',
];

/** Controls (and named regions) in the browser's accessibility tree with no accessible name. */
export async function unnamedControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as {
      nodes: { ignored: boolean; role?: { value: string }; name?: { value: string }; backendDOMNodeId?: number }[];
    };
    return nodes
      .filter((n) => !n.ignored && NAMED_ROLES.includes(n.role?.value ?? ''))
      .filter((n) => !n.name?.value?.trim())
      .map((n) => `${n.role!.value} (DOM node ${n.backendDOMNodeId})`);
  } finally {
    await cdp.detach();
  }
}

/** The visible, enabled controls that Tab never reaches (from the top of the page, one full cycle). */
export async function unreachedByTab(page: Page): Promise<string[]> {
  const total = await page.evaluate(() => {
    const controls = [...document.querySelectorAll<HTMLElement>('button, input, select, textarea, summary, a[href], [tabindex]')].filter(
      (e) => {
        const r = e.getBoundingClientRect();
        const disabled = (e as HTMLButtonElement).disabled === true;
        return r.width > 0 && r.height > 0 && !disabled && e.tabIndex >= 0 && getComputedStyle(e).visibility !== 'hidden';
      },
    );
    controls.forEach((e, i) => e.setAttribute('data-a11y-control', String(i)));
    (document.activeElement as HTMLElement | null)?.blur();
    return controls.length;
  });
  const reached = new Set<string>();
  for (let i = 0; i < total + 20; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement?.getAttribute('data-a11y-control') ?? null);
    if (id !== null) reached.add(id);
    if (reached.size === total) break;
  }
  return page.evaluate(
    (got) => {
      const missed = [...document.querySelectorAll<HTMLElement>('[data-a11y-control]')].filter(
        (e) => !got.includes(e.getAttribute('data-a11y-control')!),
      );
      document.querySelectorAll('[data-a11y-control]').forEach((e) => e.removeAttribute('data-a11y-control'));
      return missed.map((e) => `${e.tagName.toLowerCase()} "${(e.textContent || e.getAttribute('aria-label') || '').trim().slice(0, 40)}"`);
    },
    [...reached],
  );
}

/** Controls a mouse can use that the keyboard cannot even focus: clickable labels or elements with no tabindex. */
export function mouseOnlyControls(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('label')]
      .filter((l) => {
        const input = l.querySelector('input');
        const r = l.getBoundingClientRect();
        return r.width > 0 && input !== null && (input.hidden || getComputedStyle(input).display === 'none');
      })
      .map((l) => `label "${l.textContent?.trim().slice(0, 40)}" around a hidden input`),
  );
}

/** One axe violation as a failure message reads it: the rule, its impact, and the elements it found. */
export interface AxeViolation {
  id: string;
  impact: string;
  targets: string[];
}

const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core's violations rated serious or critical on the page as it is now (axe injected once per document). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.addScriptTag({ path: AXE_SOURCE });
  const results = await page.evaluate(() =>
    (globalThis as unknown as { axe: { run(c: Document, o: object): Promise<AxeResults> } }).axe.run(document, {
      resultTypes: ['violations'],
    }),
  );
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact!, targets: v.nodes.map((n) => n.target.join(' ')) }));
}
