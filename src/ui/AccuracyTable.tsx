import { useStore } from '../state/store';
import { setEstimate, meanEstimate, shiftSets, type Estimate } from '../state/frontier';
import { own } from '../core/eval/ids';
import { UserText } from './UserText';
import { alphaKey, type FrontierPoints, type PairSummary } from '../worker/protocol';

function Delta({ now, base }: { now: Estimate | null; base: Estimate | null }) {
  if (!now || !base) return <td className="num muted">—</td>;
  const d = 100 * (now.value - base.value);
  const cls = Math.abs(d) < 0.05 ? 'muted' : d > 0 ? 'up' : 'down';
  return (
    <td className={`num ${cls}`}>
      {d > 0 ? '+' : ''}
      {d.toFixed(1)}
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

/** Each set's estimate at the current α and at both endpoints, and the mean of the shifts'. */
function tableRows(pair: PairSummary, points: FrontierPoints, alpha: number) {
  const at = (a: number) => own(points, alphaKey(a)) ?? {};
  const cur = at(alpha);
  const z = at(0);
  const f = at(1);
  const shifts = shiftSets(pair);
  const rows = pair.sets.map((s) => ({
    id: s.id,
    name: s.name,
    role: s.role,
    count: s.count,
    now: setEstimate(own(cur, s.id)),
    z: setEstimate(own(z, s.id)),
    f: setEstimate(own(f, s.id)),
  }));
  const mean = {
    now: meanEstimate(shifts.map((s) => own(cur, s.id))),
    z: meanEstimate(shifts.map((s) => own(z, s.id))),
    f: meanEstimate(shifts.map((s) => own(f, s.id))),
  };
  return { rows, mean };
}

/** Accuracy at the current α on every set, with the deltas against both endpoints. */
export function AccuracyTable() {
  const pair = useStore((s) => s.pair);
  const points = useStore((s) => s.points);
  const alpha = useStore((s) => s.alpha);
  if (!pair) return null;
  const { rows, mean } = tableRows(pair, points, alpha);
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
          <tr key={r.id} className={r.role === 'reference' ? 'ref-row' : ''} data-set={r.id}>
            <th scope="row">
              <UserText text={r.name} />
              <span className="muted"> · {r.count}</span>
            </th>
            <Cell e={r.now} />
            <Delta now={r.now} base={r.z} />
            <Delta now={r.now} base={r.f} />
          </tr>
        ))}
        <tr className="mean-row" data-set="mean">
          <th scope="row">Mean of shifts</th>
          <Cell e={mean.now} />
          <Delta now={mean.now} base={mean.z} />
          <Delta now={mean.now} base={mean.f} />
        </tr>
      </tbody>
    </table>
  );
}
