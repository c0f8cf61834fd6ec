// `wiseft eval --soups` on the bundled pair: one line per recipe, in the order asked, each naming its
// mixing; the greedy line is the soup of the members its steps kept, and scores what the same
// weights asked for directly score. Bad recipes fail before any model is read.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/wiseft';
import { quiet } from '../support/quiet';

const dir = 'public/pairs/shapes';

describe('wiseft eval --soups', () => {
  it('writes a line per soup with its mixing; the greedy soup equals the weights of the members it kept', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'wiseft-soups-')), 'soups.jsonl');
    const args = ['eval', '--pair', dir, '--soups', 'greedy,model-stock,uniform', '--images', '100', '--out', out];
    expect(await quiet(() => main(args))).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.soup)).toEqual(['greedy', 'model-stock', 'uniform']);
    for (const l of lines) expect(l['reference:n']).toBe(100);
    const greedy = lines[0]! as { mixing: Record<string, number>; greedy: { member: string; kept: boolean }[] };
    const kept = greedy.greedy.filter((s) => s.kept).map((s) => s.member);
    expect(kept.length).toBeGreaterThan(0);
    const members = Object.keys(greedy.mixing);
    expect(members[0]).toBe('zero-shot');
    for (const m of members) expect(greedy.mixing[m]).toBeCloseTo(kept.includes(m) ? 1 / kept.length : 0, 15);
    expect((lines[1]!.layers as { t: number }[]).length).toBeGreaterThan(0);

    const again = join(mkdtempSync(join(tmpdir(), 'wiseft-soups-')), 'w.jsonl');
    const w = members.map((m) => greedy.mixing[m]!).join(':');
    expect(await quiet(() => main(['eval', '--pair', dir, '--soups', `weights=${w}`, '--images', '100', '--out', again]))).toBe(0);
    const direct = JSON.parse(readFileSync(again, 'utf8')) as Record<string, unknown>;
    expect(direct.soup).toBe('weights');
    for (const key of Object.keys(direct).filter((k) => k.endsWith(':top1'))) expect(direct[key], key).toBe(lines[0]![key]);
  });

  it('refuses an unknown recipe and a bad --images before reading a model', async () => {
    await expect(main(['eval', '--pair', dir, '--soups', 'greedy,best'])).rejects.toThrow(
      /'best' is not uniform, greedy, model-stock or weights/,
    );
    await expect(main(['eval', '--pair', dir, '--soups', 'uniform', '--images', '0'])).rejects.toThrow(/--images/);
    await expect(main(['eval', '--pair', dir, '--images', '10'])).rejects.toThrow(/--images goes with --soups/);
  });
});
