import { useStore } from '../state/store';
import { perClassTable, type ClassCount } from '../state/perClass';
import { UserText } from './UserText';

function CountCell({ c, testid }: { c: ClassCount | null; testid?: string }) {
  if (!c || c.n === 0) return <td className="num muted">…</td>;
  return (
    <td className="num" data-correct={c.correct} data-n={c.n} data-testid={testid}>
      {((100 * c.correct) / c.n).toFixed(1)}%<span className="ci"> {`${c.correct}/${c.n}`}</span>
    </td>
  );
}

/** Accuracy of each class of one set at the current α and both endpoints, each with its image count. */
export function PerClassTable({ setId }: { setId: string | null }) {
  const pair = useStore((s) => s.pair);
  const points = useStore((s) => s.points);
  const alpha = useStore((s) => s.alpha);
  const labels = useStore((s) => s.evalLabels);
  if (!pair || !setId) return null;
  const rows = perClassTable(pair, points, alpha, labels, setId);
  if (!rows) return <p className="muted small">Reading the classes of the eval images…</p>;
  const name = pair.sets.find((s) => s.id === setId)?.name ?? setId;
  return (
    <table className="acc-table per-class" data-testid="per-class">
      <caption>
        Per class on <UserText text={name} /> (right / images computed)
      </caption>
      <thead>
        <tr>
          <th>class</th>
          <th className="num">α = {alpha.toFixed(2)}</th>
          <th className="num">zero-shot</th>
          <th className="num">fine-tuned</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.classIndex} data-class={r.classIndex}>
            <th scope="row">
              <UserText text={r.name} />
            </th>
            <CountCell c={r.now} testid="class-now" />
            <CountCell c={r.zeroShot} />
            <CountCell c={r.fineTuned} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}
