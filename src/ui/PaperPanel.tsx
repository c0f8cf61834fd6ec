import { useMemo } from 'react';
import { ResponsiveContainer, ScatterChart, CartesianGrid, XAxis, YAxis, Scatter, Tooltip } from 'recharts';
import { useStore } from '../state/store';
import { PAPER_CURVES, ANALOGUE_COLUMN } from '../data/paper/paper';
import { boxOf, roundDomain } from '../state/axes';
import { COLORS } from './FrontierChart';
import { isGridAlpha } from '../worker/protocol';

const PAPER_SHIFT_NAMES: Record<string, string> = {
  in_v2: 'ImageNetV2',
  in_r: 'ImageNet-R',
  in_sketch: 'ImageNet Sketch',
  objectnet: 'ObjectNet',
  in_a: 'ImageNet-A',
};

/**
 * The paper's published sweep on its own small axes, titled as ImageNet numbers: drawn on the
 * frontier's axes it read as a result of this world (a different model, different data, accuracies
 * of another scale).
 */
export function PaperPanel() {
  const paper = useStore((s) => s.paper);
  const pair = useStore((s) => s.pair);
  const shift = useStore((s) => s.shift);
  const curve = PAPER_CURVES.find((c) => c.id === paper);
  // The paper's column for the selected shift's analogue (ImageNet-R for `rendition`), else the mean of its five shifts.
  const col = shift === 'mean' ? undefined : ANALOGUE_COLUMN[pair?.sets.find((s) => s.id === shift)?.analogue ?? ''];
  const data = useMemo(
    () =>
      curve?.points
        .filter((p) => isGridAlpha(p.alpha))
        .map((p) => ({ x: p.imagenet, y: col ? p.shifts[col] : p.avgShifts, alpha: p.alpha })) ?? [],
    [curve, col],
  );
  if (!curve || data.length === 0) return null;
  const yName = col ? PAPER_SHIFT_NAMES[col] : 'mean of 5 ImageNet shifts';
  return (
    <section className="paper-panel" aria-label="The paper's ImageNet sweep" data-testid="paper-panel">
      <h3>Paper: ImageNet ({curve.label}), not this world</h3>
      <p className="muted small">
        WiSE-FT's published α sweep (CVPR 2022, end-to-end), on its own axes: the real ImageNet numbers this world is an analogue of.{' '}
        <span data-testid="paper-axes">x: ImageNet accuracy · y: {yName} accuracy</span>, α = 0 … 1.
      </p>
      {/* Axis names in the text above: rotated in a 200 px chart they ran into the tick labels. */}
      <PaperChart data={data} label={curve.label} />
    </section>
  );
}

function PaperChart({ data, label }: { data: { x: number; y: number; alpha: number }[]; label: string }) {
  const box = boxOf(data)!;
  const x = roundDomain(box.x[0], box.x[1]);
  const y = roundDomain(box.y[0], box.y[1]);
  return (
    <ResponsiveContainer width="100%" height={200}>
      <ScatterChart margin={{ top: 8, right: 16, bottom: 4, left: 0 }}>
        <CartesianGrid stroke="#e2e8f0" />
        <XAxis type="number" dataKey="x" domain={[x.lo, x.hi]} ticks={x.ticks} tickFormatter={(v: number) => `${v}%`} />
        <YAxis type="number" dataKey="y" domain={[y.lo, y.hi]} ticks={y.ticks} tickFormatter={(v: number) => `${v}%`} width={44} />
        <Tooltip formatter={(v) => `${Number(v).toFixed(1)}%`} labelFormatter={() => label} isAnimationActive={false} />
        <Scatter
          name={`paper: ImageNet (${label})`}
          data={data}
          fill={COLORS.paper}
          line={{ stroke: COLORS.paper }}
          shape="diamond"
          isAnimationActive={false}
        />
      </ScatterChart>
    </ResponsiveContainer>
  );
}
