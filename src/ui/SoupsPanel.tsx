// Soups over the bundle's members: the uniform soup, the greedy soup (its steps appear one at a
// time: each candidate's reference accuracy, kept or rejected) and Model Stock (its per-layer t),
// and the triangle. Thin: numbers from state/soups.ts, every change an action (controllers/soups.ts).
import { useMemo } from 'react';
import { useStore } from '../state/store';
import { useActions } from './actions';
import { soupMarks } from '../state/soups';
import { frontierPoints, pct } from '../state/frontier';
import { SoupTriangle } from './SoupTriangle';
import type { PairSummary } from '../worker/protocol';

function SoupTable({ pair }: { pair: PairSummary }) {
  const soupsOn = useStore((s) => s.soupsOn);
  const soupPoints = useStore((s) => s.soupPoints);
  const greedySteps = useStore((s) => s.greedySteps);
  const stock = useStore((s) => s.stock);
  const shift = useStore((s) => s.shift);
  const rows = useMemo(
    () =>
      soupMarks(pair, { soupsOn, soupPoints, greedySteps, stock }).flatMap((m) => {
        const p = frontierPoints(pair, { '0': m.point }, shift)[0];
        return p ? [{ label: m.label, p }] : [];
      }),
    [pair, soupsOn, soupPoints, greedySteps, stock, shift],
  );
  return (
    <table className="soup-table" data-testid="soup-table">
      <thead>
        <tr>
          <th>Soup</th>
          <th className="num">Reference</th>
          <th className="num">Under shift</th>
          <th className="num">n per set</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ label, p }) => (
          <tr key={label}>
            <td>{label}</td>
            <td className="num">{`${pct(p.reference.value)} ±${(50 * (p.reference.high - p.reference.low)).toFixed(1)}`}</td>
            <td className="num">{`${pct(p.shift.value)} ±${(50 * (p.shift.high - p.shift.low)).toFixed(1)}`}</td>
            <td className="num">{p.reference.n.toLocaleString('en')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function GreedySteps({ pair }: { pair: PairSummary }) {
  const steps = useStore((s) => s.greedySteps);
  const shown = useStore((s) => s.greedyShown);
  if (steps.length === 0) return null;
  return (
    <ol className="greedy-steps" data-testid="greedy-steps" aria-live="polite">
      {steps.slice(0, shown).map(({ step }, i) => (
        <li key={i} className={step.kept ? 'kept' : 'rejected'} data-testid="greedy-step">
          {pair.members[step.member]?.id ?? `member ${step.member + 1}`}: alone {pct(step.alone)} on the reference set
          {i > 0 ? `; the soup with it ${pct(step.candidate)}` : ''} — <strong>{step.kept ? 'kept' : 'rejected'}</strong>
        </li>
      ))}
    </ol>
  );
}

function StockLayers() {
  const stock = useStore((s) => s.stock);
  if (!stock) return null;
  return (
    <details className="stock-layers">
      <summary>Model Stock per layer: t = k·cosθ / (1 + (k−1)·cosθ)</summary>
      <table data-testid="stock-layers">
        <tbody>
          {stock.layers.map((l) => (
            <tr key={l.id}>
              <td>{l.id}</td>
              <td className="num">cos θ {l.cos === null ? '—' : l.cos.toFixed(3)}</td>
              <td className="num">t {l.t.toFixed(3)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

export function SoupsPanel() {
  const pair = useStore((s) => s.pair);
  const soupsOn = useStore((s) => s.soupsOn);
  const triangle = useStore((s) => s.triangle);
  const evaluating = useStore((s) => s.soupEvaluating);
  const { setSoupsOn, setTriangle } = useActions();
  if (!pair || pair.members.length < 2) return null;
  return (
    <section className="soups-panel" aria-label="Soups" data-testid="soups-panel">
      <h2>Soups of the fine-tuned members</h2>
      <label className="toggle">
        <input type="checkbox" checked={soupsOn} onChange={(e) => setSoupsOn(e.currentTarget.checked)} data-testid="soups-on" /> Uniform
        soup, greedy soup and Model Stock over the bundle's {pair.members.length} members, drawn on the chart{' '}
        {evaluating ? '(evaluating…)' : ''}
      </label>
      {soupsOn && (
        <>
          <SoupTable pair={pair} />
          <GreedySteps pair={pair} />
          <StockLayers />
          <label className="toggle">
            <input
              type="checkbox"
              checked={triangle !== null}
              onChange={(e) => setTriangle(e.currentTarget.checked ? 'reference' : null)}
              data-testid="triangle-on"
            />{' '}
            Triangle over zero-shot and two members
          </label>
          {triangle && <SoupTriangle pair={pair} view={triangle} />}
        </>
      )}
    </section>
  );
}
