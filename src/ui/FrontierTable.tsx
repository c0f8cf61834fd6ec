// The chart's data as a table: every live point with its intervals and image counts, for a screen
// reader or anyone who wants the numbers (the chart is a picture of this table). Collapsed under
// the chart; in the presenter view, which has no room for it, it is there for assistive technology only.
import { useMemo } from 'react';
import { useStore } from '../state/store';
import { frontierPoints, pct, referenceSet, type Estimate } from '../state/frontier';
import { isolate } from '../state/thin';
import { shiftLabel } from './FrontierChart';

const cell = (e: Estimate) => `${pct(e.value)} [${pct(e.low)}, ${pct(e.high)}]`;

function PointsTable() {
  const pair = useStore((s) => s.pair);
  const points = useStore((s) => s.points);
  const shift = useStore((s) => s.shift);
  const rows = useMemo(() => (pair ? frontierPoints(pair, points, shift) : []), [pair, points, shift]);
  if (!pair) return null;
  return (
    <table className="frontier-table" data-testid="frontier-table">
      <caption>The frontier: accuracy in % with its 95% interval, one row per α computed</caption>
      <thead>
        <tr>
          <th scope="col">α</th>
          <th scope="col">Reference ({isolate(referenceSet(pair)?.name ?? 'reference', 40)})</th>
          <th scope="col">Under shift ({shiftLabel(pair, shift)})</th>
          <th scope="col">Images</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((p) => (
          <tr key={p.alpha}>
            <th scope="row">{p.alpha.toFixed(2)}</th>
            <td>{cell(p.reference)}</td>
            <td>{cell(p.shift)}</td>
            <td>
              {(p.reference.n + p.shift.n).toLocaleString('en')} of {(p.reference.total + p.shift.total).toLocaleString('en')}
              {p.complete ? '' : ' (refining)'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function FrontierTable() {
  const presenter = useStore((s) => s.presenter);
  if (presenter)
    return (
      <div className="sr-only">
        <PointsTable />
      </div>
    );
  return (
    <details className="frontier-data">
      <summary>The frontier as a table</summary>
      <PointsTable />
    </details>
  );
}
