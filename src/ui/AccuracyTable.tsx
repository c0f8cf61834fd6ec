import { useStore } from '../state/store';
import type { Estimate } from '../state/frontier';
import { accuracyTable, signedPoints, type Delta, type SetRow, type TableRow } from '../state/table';
import { UserText } from './UserText';

/**
 * A paired difference and its interval, coloured (and bold) only when the interval excludes 0:
 * 100 images per set can show +2.0 that the full set turns into −3.9.
 */
function DeltaCell({ d }: { d: Delta | null }) {
  if (!d) return <td className="num muted">—</td>;
  const cls = !d.significant ? 'ns' : d.diff > 0 ? 'up sig' : 'down sig';
  const title =
    `${signedPoints(d.diff)} points on the ${d.n.toLocaleString('en')} images computed at both α; ` +
    `paired 95% interval ${signedPoints(d.lo, true)} to ${signedPoints(d.hi, true)}` +
    (d.significant ? '' : ' (it includes 0: no difference shown)');
  return (
    <td className={`num delta ${cls}`} title={title} data-significant={d.significant}>
      {signedPoints(d.diff)}
      <span className="ci interval">
        [{signedPoints(d.lo, true)}, {signedPoints(d.hi, true)}]
      </span>
    </td>
  );
}

function Cell({ e }: { e: Estimate | null }) {
  if (!e) return <td className="num muted">…</td>;
  return (
    <td className="num">
      {(100 * e.value).toFixed(1)}%<span className="ci"> ±{(50 * (e.high - e.low)).toFixed(1)}</span>
      {/* On its own line: with the count beside it the table overflows the side column. */}
      {e.n < e.total ? (
        <span className="ci partial">
          {e.n}/{e.total} images
        </span>
      ) : null}
    </td>
  );
}

/** A row's three numbers: accuracy now, then the paired deltas against both endpoints. */
function RowCells({ row }: { row: TableRow }) {
  return (
    <>
      <Cell e={row.now} />
      <DeltaCell d={row.vsZeroShot} />
      <DeltaCell d={row.vsFineTuned} />
    </>
  );
}

function SetRowView({ row }: { row: SetRow }) {
  return (
    <tr className={row.set.role === 'reference' ? 'ref-row' : ''} data-set={row.set.id}>
      <th scope="row">
        <UserText text={row.set.name} />
        <span className="muted"> · {row.set.count}</span>
      </th>
      <RowCells row={row} />
    </tr>
  );
}

/** Accuracy at the current α on every set, with the paired deltas against both endpoints. */
export function AccuracyTable() {
  const pair = useStore((s) => s.pair);
  const points = useStore((s) => s.points);
  const alpha = useStore((s) => s.alpha);
  if (!pair) return null;
  const { rows, mean } = accuracyTable(pair, points, alpha);
  return (
    <table className="acc-table" data-testid="accuracy-table">
      <caption>
        Accuracy at α = <strong data-testid="table-alpha">{alpha.toFixed(2)}</strong> (95% interval half-width; n images)
      </caption>
      <thead>
        <tr>
          <th>set</th>
          <th className="num">accuracy</th>
          <th className="num">vs zero-shot</th>
          <th className="num">vs fine-tuned</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <SetRowView key={r.set.id} row={r} />
        ))}
        <tr className="mean-row" data-set="mean">
          <th scope="row">Mean of shifts</th>
          <RowCells row={mean} />
        </tr>
      </tbody>
      <tfoot>
        <tr>
          <td colSpan={4} className="small muted" data-testid="delta-note">
            Differences in points: paired 95% interval, same images at both α; coloured only when it excludes 0.
          </td>
        </tr>
      </tfoot>
    </table>
  );
}
