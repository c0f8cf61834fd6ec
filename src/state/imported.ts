// wise-ft results files (JSON lines: alpha, "<Dataset>:top1") imported to plot beside the live
// frontier, e.g. a full ImageNet sweep run elsewhere on GPUs; and the live results exported in
// the same format.
import { parseResults, formatResults, toResultLine, type ResultLine } from '../core/eval/results';
import type { PairSummary } from '../worker/protocol';
import { useStore, say, type Store } from './store';
import { downloadBlob } from './dom';
import { record, own } from '../core/eval/ids';
import { listSome, isolate } from './thin';

/** Results files are JSON lines of a few hundred bytes: 20 MB is tens of thousands of lines, more than parseResults takes. */
export const MAX_RESULTS_FILE_BYTES = 20 * 2 ** 20;

export interface ImportedCurve {
  name: string;
  reference: string;
  shifts: string[];
  points: { alpha: number; reference: number; shift: number; perSet: Record<string, number> }[];
  /** The chart's name for it; default "<name> (imported)". A bundle's recorded sweep is "recorded sweep". */
  series?: string;
}

/** Which key is the reference: ours by set id, else ImageNet, else the first dataset in the file. */
export function toCurve(name: string, lines: ResultLine[], pair: PairSummary | null): ImportedCurve {
  const datasets = [
    ...new Set(
      lines.flatMap((l) =>
        Object.keys(l)
          .filter((k) => k.endsWith(':top1'))
          .map((k) => k.slice(0, -5)),
      ),
    ),
  ];
  const ours = pair?.sets.find((s) => s.role === 'reference');
  const reference = (ours && datasets.includes(ours.id) ? ours.id : null) ?? (datasets.includes('ImageNet') ? 'ImageNet' : datasets[0]!);
  const shifts = datasets.filter((d) => d !== reference);
  const points = lines
    .filter((l) => typeof l[`${reference}:top1`] === 'number')
    .map((l) => {
      // Keyed by dataset names from the file: prototype-free ("__proto__" is a name like any other).
      const perSet = record<number>();
      for (const d of datasets) if (typeof own(l, `${d}:top1`) === 'number') perSet[d] = l[`${d}:top1`]!;
      const present = shifts.filter((d) => own(perSet, d) !== undefined);
      const shift = present.length ? present.reduce((s, d) => s + perSet[d]!, 0) / present.length : NaN;
      return { alpha: l.alpha, reference: perSet[reference]!, shift, perSet };
    })
    .filter((p) => Number.isFinite(p.shift))
    .sort((a, b) => a.alpha - b.alpha);
  return { name, reference, shifts, points };
}

export async function importResults(file: File, store: Store = useStore): Promise<void> {
  try {
    if (file.size > MAX_RESULTS_FILE_BYTES)
      throw new Error(
        `the file is ${(file.size / 2 ** 20).toFixed(1)} MB, more than the ${MAX_RESULTS_FILE_BYTES / 2 ** 20} MB a results file may be here; it was not read`,
      );
    const lines = parseResults(await file.text());
    const curve = toCurve(file.name, lines, store.getState().pair);
    if (curve.points.length === 0) throw new Error('no line has both a reference and a shift accuracy');
    store.setState((s) => ({ imported: [...s.imported.filter((c) => c.name !== curve.name), curve] }));
    say(
      'info',
      `Imported ${curve.points.length} α points from ${isolate(file.name)}: reference ${isolate(curve.reference)}, ${curve.shifts.length === 1 ? 'shift' : `${curve.shifts.length.toLocaleString('en')} shifts`} ${listSome(curve.shifts)}.`,
      store,
    );
  } catch (e) {
    say('error', `Could not import ${isolate(file.name)}: ${(e as Error).message}`, store);
  }
}

export function exportResults(store: Store = useStore): void {
  const s = store.getState();
  if (!s.pair) return;
  const lines = Object.entries(s.points)
    .filter(([, p]) => s.pair!.sets.every((x) => p[x.id]?.n === x.count))
    .map(([a, p]) => toResultLine(Number(a), p));
  // Only what exists: an export before any α is complete on every image would be an empty file.
  if (lines.length === 0) return say('info', 'Nothing to export yet: no α has been evaluated on every image of every set.', store);
  downloadBlob(new Blob([formatResults(lines)], { type: 'application/x-ndjson' }), `wiseft-results-${s.pair.resultsKey.slice(0, 8)}.jsonl`);
}
