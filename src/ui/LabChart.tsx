// The guided lab on the chart: what a step keeps off it until revealed, the student's mark (a click
// on the plot), and after the reveal a dashed line from the mark to the answer.
import { useMemo, type ReactNode } from 'react';
import { Scatter, usePlotArea, useXAxisInverseScale, useYAxisInverseScale } from 'recharts';
import { useStore } from '../state/store';
import { labStep, labView, pending, type LabView } from '../state/lab';
import { targetAlpha, weightPointAt, type LabData, type LabPoint } from '../state/labText';
import { recordedOutputCurve } from '../state/members';
import { thinCurve } from '../state/thin';
import { own } from '../core/eval/ids';
import { useActions } from './actions';

export const LAB_COLORS = { mark: '#0f172a', answer: '#16a34a' };

export interface LabChart {
  view: LabView;
  pending: boolean;
  zeroShot: LabPoint | null;
  fineTuned: LabPoint | null;
  /** The recorded output-space sweep, for the ensemble step before the live one is computed. */
  outputCurve: { x: number; y: number; alpha: number; series: string }[];
  mark: LabPoint | null;
  /** The step's answer, once revealed. */
  answer: LabPoint | null;
}

function outputData(d: LabData) {
  const c = recordedOutputCurve(d.pair);
  if (!c) return [];
  return thinCurve(
    c.points.map((p) => ({
      x: 100 * p.reference,
      y: 100 * (d.shift !== 'mean' && own(p.perSet, d.shift) !== undefined ? p.perSet[d.shift]! : p.shift),
      alpha: p.alpha,
      series: 'output-space ensemble (recorded)',
    })),
  );
}

/** What the chart needs from the lab; null outside lab mode. */
export function useLabChart(d: LabData | null): LabChart | null {
  const n = useStore((s) => s.labStep);
  const revealed = useStore((s) => s.revealed);
  const mark = useStore((s) => s.prediction);
  return useMemo(() => {
    const view = labView(n, revealed);
    const step = labStep(n);
    if (!d || !view || !step) return null;
    return {
      view,
      pending: pending(n, revealed),
      zeroShot: weightPointAt(d, 0),
      fineTuned: weightPointAt(d, 1),
      outputCurve: view.ensemble ? outputData(d) : [],
      mark,
      answer: step.predict && revealed ? weightPointAt(d, targetAlpha(step.predict)) : null,
    };
  }, [d, n, revealed, mark]);
}

function MarkShape({ cx, cy }: { cx?: number; cy?: number }) {
  if (cx === undefined || cy === undefined) return <g />;
  return (
    <g data-testid="lab-mark">
      <circle cx={cx} cy={cy} r={9} fill="none" stroke={LAB_COLORS.mark} strokeWidth={2} />
      <path d={`M${cx - 13},${cy}H${cx + 13}M${cx},${cy - 13}V${cy + 13}`} stroke={LAB_COLORS.mark} strokeWidth={1.5} />
    </g>
  );
}

function AnswerShape({ cx, cy }: { cx?: number; cy?: number }) {
  if (cx === undefined || cy === undefined) return <g />;
  return <circle data-testid="lab-answer" cx={cx} cy={cy} r={12} fill="none" stroke={LAB_COLORS.answer} strokeWidth={3} />;
}

/** The mark, and after the reveal the answer ringed and joined to the mark. Plain function: recharts reads its children's types. */
export function labSeries(lab: LabChart): ReactNode[] {
  const { mark, answer } = lab;
  return [
    mark && answer && (
      <Scatter
        key="lab-miss"
        name="your prediction → the answer"
        data={[mark, answer]}
        line={{ stroke: LAB_COLORS.mark, strokeDasharray: '4 3' }}
        shape={() => <g />}
        legendType="none"
        isAnimationActive={false}
      />
    ),
    answer && (
      <Scatter key="lab-answer" name="the answer" data={[answer]} fill={LAB_COLORS.answer} shape={AnswerShape} isAnimationActive={false} />
    ),
    mark && (
      <Scatter key="lab-mark" name="your prediction" data={[mark]} fill={LAB_COLORS.mark} shape={MarkShape} isAnimationActive={false} />
    ),
  ];
}

/** A transparent layer over the plot: a click there is the student's mark, in the axes' units. */
export function PredictionLayer() {
  const area = usePlotArea();
  const toX = useXAxisInverseScale();
  const toY = useYAxisInverseScale();
  const { predict } = useActions();
  if (!area || !toX || !toY) return null;
  const onClick = (e: React.MouseEvent<SVGRectElement>) => {
    const box = e.currentTarget.ownerSVGElement?.getBoundingClientRect();
    if (box) predict(Number(toX(e.clientX - box.left)), Number(toY(e.clientY - box.top)));
  };
  return (
    <rect
      data-testid="lab-target"
      x={area.x}
      y={area.y}
      width={area.width}
      height={area.height}
      fill="transparent"
      style={{ cursor: 'crosshair' }}
      onClick={onClick}
    >
      <title>Click where you expect the point to land</title>
    </rect>
  );
}
