import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pacedProgress } from '../../../src/worker/pacedProgress';
import type { LoadProgress } from '../../../src/core/bundle/source';

const at = (loaded: number, file = 'zs.onnx', extra: Partial<LoadProgress> = {}): LoadProgress => ({
  file,
  loaded,
  total: 1000,
  bundleLoaded: loaded,
  bundleTotal: null,
  ...extra,
});

/** The reports `report` passed on, as [file, loaded] (with `ended` where set). */
function recorder() {
  const sent: (string | number)[][] = [];
  const report = pacedProgress(
    (p) => sent.push([p.file, p.loaded, ...(p.ended ? [p.ended] : [])]),
    100,
    () => Date.now(),
  );
  return { sent, report };
}

describe('pacedProgress', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('passes about one report per interval from a stream of reads, the file’s first and last among them, in order', () => {
    const { sent, report } = recorder();
    // 1,000 reads, one each millisecond: a second of download.
    for (let i = 1; i <= 1000; i++) {
      report(at(i));
      vi.advanceTimersByTime(1);
    }
    expect(sent.length).toBeGreaterThanOrEqual(10);
    expect(sent.length).toBeLessThanOrEqual(12);
    expect(sent[0]).toEqual(['zs.onnx', 1]);
    expect(sent.at(-1)).toEqual(['zs.onnx', 1000]);
    const loaded = sent.map((s) => s[1] as number);
    expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
    const n = sent.length;
    vi.advanceTimersByTime(500);
    expect(sent).toHaveLength(n);
  });

  it('sends the report waiting when the interval is up, so a file of unknown size still shows its last bytes', () => {
    const { sent, report } = recorder();
    report(at(1, 'x', { total: null }));
    report(at(2, 'x', { total: null }));
    report(at(3, 'x', { total: null }));
    expect(sent).toEqual([['x', 1]]);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([
      ['x', 1],
      ['x', 3],
    ]);
  });

  it('sends the waiting report of a file before the first report of the next, both at once', () => {
    const { sent, report } = recorder();
    report(at(1, 'zs.onnx', { total: null }));
    report(at(7, 'zs.onnx', { total: null }));
    report(at(1, 'ft.onnx'));
    expect(sent).toEqual([
      ['zs.onnx', 1],
      ['zs.onnx', 7],
      ['ft.onnx', 1],
    ]);
  });

  it('sends a stream end at once, in place of the report waiting, and nothing after it', () => {
    const { sent, report } = recorder();
    report(at(10));
    report(at(20));
    report(at(20, 'zs.onnx', { ended: 'done' }));
    expect(sent).toEqual([
      ['zs.onnx', 10],
      ['zs.onnx', 20, 'done'],
    ]);
    vi.advanceTimersByTime(500);
    expect(sent).toHaveLength(2);
  });

  it('flush sends the waiting report now, once', () => {
    const { sent, report } = recorder();
    report(at(1));
    report(at(2));
    report.flush();
    expect(sent).toEqual([
      ['zs.onnx', 1],
      ['zs.onnx', 2],
    ]);
    report.flush();
    vi.advanceTimersByTime(500);
    expect(sent).toHaveLength(2);
  });
});
