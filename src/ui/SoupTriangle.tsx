// The 2-simplex over zero-shot and two fine-tuned members: one dot per 0.1 cell, coloured by
// reference or shift accuracy, filled as cells arrive; its two left and right edges are the WiSE-FT
// lines (zero-shot to each member), its bottom edge the two-member soups. Thin: cells and values
// come from state/soups.ts, the toggle is an action.
import { useMemo } from 'react';
import { useStore } from '../state/store';
import { useActions } from './actions';
import { SOUP_FIRST_IMAGES, cellPosition, triangleHeat, triangleMembers, type HeatCell } from '../state/soups';
import type { PairSummary } from '../worker/protocol';

const SIZE = 260;
const PAD = 18;

/** Light (low) to dark (high) over the computed cells' range, so differences inside it show. */
function colourOf(v: number | null, lo: number, hi: number): string {
  if (v === null) return '#e5e7eb';
  const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
  return `hsl(${28 - 8 * t} ${60 + 30 * t}% ${88 - 55 * t}%)`;
}

function at(c: HeatCell['cell']['steps']): { x: number; y: number } {
  const p = cellPosition(c);
  return { x: PAD + p.x * (SIZE - 2 * PAD), y: PAD + p.y * (SIZE - 2 * PAD) };
}

function Cells({ heat }: { heat: HeatCell[] }) {
  const values = heat.flatMap((h) => (h.value === null ? [] : [h.value]));
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return (
    <>
      {heat.map((h) => {
        const p = at(h.cell.steps);
        const [z, a, b] = h.cell.steps.map((s) => (s / 10).toFixed(1));
        const label = `zero-shot ${z}, ${a}, ${b}: ${h.value === null ? 'not computed yet' : `${(100 * h.value).toFixed(1)}% (n = ${h.n})`}`;
        return (
          <circle key={h.cell.steps.join()} cx={p.x} cy={p.y} r={9} fill={colourOf(h.value, lo, hi)} data-computed={h.value !== null}>
            <title>{label}</title>
          </circle>
        );
      })}
    </>
  );
}

function Edges({ names }: { names: [string, string] }) {
  const top = at([10, 0, 0]);
  const left = at([0, 10, 0]);
  const right = at([0, 0, 10]);
  return (
    <>
      <line x1={top.x} y1={top.y} x2={left.x} y2={left.y} className="wiseft-line" />
      <line x1={top.x} y1={top.y} x2={right.x} y2={right.y} className="wiseft-line" />
      <text x={top.x} y={top.y - 8} textAnchor="middle">
        zero-shot
      </text>
      <text x={left.x} y={left.y + 16} textAnchor="start">
        {names[0]}
      </text>
      <text x={right.x} y={right.y + 16} textAnchor="end">
        {names[1]}
      </text>
    </>
  );
}

export function SoupTriangle({ pair, view }: { pair: PairSummary; view: 'reference' | 'shift' }) {
  const soupPoints = useStore((s) => s.soupPoints);
  const shift = useStore((s) => s.shift);
  const { setTriangle } = useActions();
  const heat = useMemo(() => triangleHeat(pair, soupPoints, view, shift), [pair, soupPoints, view, shift]);
  const members = triangleMembers(pair);
  if (!members) return null;
  const names: [string, string] = [pair.members[members[0] - 1]!.id, pair.members[members[1] - 1]!.id];
  const done = heat.filter((h) => h.value !== null).length;
  return (
    <figure className="soup-triangle" data-testid="soup-triangle">
      <div role="group" aria-label="Triangle shows">
        {(['reference', 'shift'] as const).map((v) => (
          <button key={v} type="button" aria-pressed={view === v} onClick={() => setTriangle(v)} data-testid={`triangle-${v}`}>
            {v === 'reference' ? 'Reference accuracy' : 'Accuracy under shift'}
          </button>
        ))}
      </div>
      <svg viewBox={`0 0 ${SIZE} ${SIZE}`} width={SIZE} height={SIZE} role="img" aria-label={`${view} accuracy over the triangle`}>
        <Edges names={names} />
        <Cells heat={heat} />
      </svg>
      <figcaption data-testid="triangle-caption">
        {done} of {heat.length} cells on a 0.1 grid, n = {SOUP_FIRST_IMAGES} images per set each: a first look, a cell's 95% interval is
        several points wide. The left and right edges are the WiSE-FT lines to each member; the bottom edge mixes the two members.
      </figcaption>
    </figure>
  );
}
