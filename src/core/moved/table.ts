// The moved report as a table: columns, sorting and number formatting, shared by the page and
// `wiseft moved` so both print the same numbers. Pure: the page may import it (eslint allows it).
import type { MovedReport, MovedRow } from './moved';

/** A column to sort by: model order, a text column, a member's relative change (by index), the cosine. */
export type MovedSortKey = 'order' | 'name' | 'group' | 'params' | 'cosine' | { member: number };

export interface MovedSort {
  key: MovedSortKey;
  descending: boolean;
}

export const MODEL_ORDER: MovedSort = { key: 'order', descending: false };

/** Three significant digits, as measured; "—" where the number is undefined (θ₀ all zero, a zero delta). */
export function formatSignificant(x: number | null, digits = 3): string {
  if (x === null || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  return x.toPrecision(digits);
}

export function formatShape(shape: readonly number[]): string {
  return shape.length === 0 ? 'scalar' : shape.join('×');
}

export function sameSortKey(a: MovedSortKey, b: MovedSortKey): boolean {
  return typeof a === 'object' && typeof b === 'object' ? a.member === b.member : a === b;
}

function sortValue(row: MovedRow, index: number, key: MovedSortKey): number | string | null {
  if (typeof key === 'object') return row.relativeChange[key.member] ?? null;
  if (key === 'order') return index;
  if (key === 'name' || key === 'group') return row[key];
  return row[key];
}

/** The rows sorted by `sort`, ties in model order; an undefined number sorts last either way. */
export function sortRows(report: MovedReport, sort: MovedSort): MovedRow[] {
  const keyed = report.rows.map((row, i) => ({ row, i, v: sortValue(row, i, sort.key) }));
  const sign = sort.descending ? -1 : 1;
  keyed.sort((a, b) => {
    if (a.v === null || b.v === null) return a.v === b.v ? a.i - b.i : a.v === null ? 1 : -1;
    const c = typeof a.v === 'string' ? a.v.localeCompare(b.v as string) : a.v - (b.v as number);
    return c !== 0 ? sign * c : a.i - b.i;
  });
  return keyed.map((k) => k.row);
}

/** Column titles: members named, the cosine naming the two members it compares. */
export function movedHeaders(report: MovedReport): string[] {
  const members = report.members.map((m) => `‖Δ‖/‖θ₀‖ ${m.name}`);
  const cos = report.compared ? [`cos(Δ ${report.members[report.compared[0]]!.id}, Δ ${report.members[report.compared[1]]!.id})`] : [];
  return ['tensor', 'group', 'shape', '#params', ...members, ...cos];
}

/** A member's relative change; where θ₀ is all zeros (a zero-initialised bias) the ratio is undefined, so ‖Δ‖ itself. */
export function formatChange(row: MovedRow, member: number): string {
  const r = row.relativeChange[member];
  return r === null || r === undefined ? `‖Δ‖ ${formatSignificant(row.deltaNorm[member] ?? null)} (θ₀ = 0)` : formatSignificant(r);
}

export function movedCells(report: MovedReport, row: MovedRow): string[] {
  const cos = report.compared ? [formatSignificant(row.cosine)] : [];
  return [
    row.name,
    row.group,
    formatShape(row.shape),
    String(row.params),
    ...row.relativeChange.map((_, k) => formatChange(row, k)),
    ...cos,
  ];
}

/** The table as tab-separated lines (the CLI's output), with every layer group's and the whole model's totals after it. */
export function movedTableText(report: MovedReport, sort: MovedSort = MODEL_ORDER): string {
  const line = (cells: string[]) => cells.join('\t');
  const cos = (x: number | null) => (report.compared ? [formatSignificant(x)] : []);
  const totals = (label: string, group: string, t: MovedReport['overall']) =>
    line([label, group, '', String(t.params), ...t.relativeChange.map((x) => formatSignificant(x)), ...cos(t.cosine)]);
  return [
    line(movedHeaders(report)),
    ...sortRows(report, sort).map((r) => line(movedCells(report, r))),
    '',
    ...report.groups.map((g) => totals(`(group total)`, g.group, g)),
    totals('(all weights)', '', report.overall),
  ].join('\n');
}
