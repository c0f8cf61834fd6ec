// The guided lab's panel above the chart: the step's text (computed in state/labText.ts from the
// data on screen), the mark by keyboard, the reveal, and the way between steps.
import { useMemo } from 'react';
import { useStore } from '../state/store';
import { LAB_STEPS, labStep, pending } from '../state/lab';
import { labText, type ShiftRow } from '../state/labText';
import { useActions } from './actions';

function PercentInput({ name, label, value }: { name: string; label: string; value: number | undefined }) {
  return <input name={name} type="number" min={0} max={100} step={0.1} required defaultValue={value} aria-label={label} />;
}

/** The keyboard's way to mark: two numbers in percent. Uncontrolled, reset by `key` when a click marks. */
function MarkInputs({ mark }: { mark: { x: number; y: number } | null }) {
  const { predict } = useActions();
  const onSubmit = (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    predict(Number(f.get('x')), Number(f.get('y')));
  };
  return (
    <form className="lab-mark" onSubmit={onSubmit} key={mark ? `${mark.x},${mark.y}` : 'none'}>
      <label>
        reference <PercentInput name="x" label="Predicted reference accuracy (%)" value={mark?.x} />%
      </label>
      <label>
        shift <PercentInput name="y" label="Predicted accuracy under shift (%)" value={mark?.y} />%
      </label>
      <button type="submit">Mark</button>
    </form>
  );
}

const cell = (v: number | null) => (v === null ? '—' : `${v.toFixed(1)}%`);

function ShiftRows({ rows }: { rows: ShiftRow[] }) {
  return (
    <table className="lab-rows" data-testid="lab-rows">
      <tbody>
        {rows.map((r) => (
          <tr key={r.id}>
            <th scope="row">{r.name}</th>
            <td>{cell(r.zeroShot)}</td>
            <td>→ {cell(r.at)}</td>
            <td>→ {cell(r.fineTuned)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function LabNav({ n }: { n: number }) {
  const { prevStep, nextStep, leaveLab } = useActions();
  return (
    <nav className="lab-nav" aria-label="Lab steps">
      <button type="button" onClick={prevStep} disabled={n <= 1}>
        ← Back
      </button>
      <button type="button" onClick={nextStep} disabled={n >= LAB_STEPS.length} data-testid="lab-next">
        Next →
      </button>
      <button type="button" className="small" onClick={leaveLab}>
        Leave the lab
      </button>
    </nav>
  );
}

function useLabText() {
  const n = useStore((s) => s.labStep);
  const revealed = useStore((s) => s.revealed);
  const mark = useStore((s) => s.prediction);
  const pair = useStore((s) => s.pair);
  const points = useStore((s) => s.points);
  const ensemble = useStore((s) => s.ensemble);
  const shift = useStore((s) => s.shift);
  const text = useMemo(
    () => (n !== null && pair ? labText(n, revealed, mark, { pair, points, ensemble, shift }) : null),
    [n, revealed, mark, pair, points, ensemble, shift],
  );
  return { n, revealed, mark, text };
}

export function LabPanel() {
  const { n, revealed, mark, text } = useLabText();
  const { reveal } = useActions();
  const step = labStep(n);
  if (n === null || !step || !text) return null;
  const waiting = pending(n, revealed);
  return (
    <section className="lab" data-testid="lab" data-step={n} aria-label="Guided lab">
      <div className="lab-head">
        <strong>
          Lab · step {n} of {LAB_STEPS.length}: {step.title}
        </strong>
        <LabNav n={n} />
      </div>
      <p data-testid="lab-lead">{text.lead}</p>
      {text.rows.length > 0 && <ShiftRows rows={text.rows} />}
      {text.task && <p className="lab-task">{text.task}</p>}
      {waiting && (
        <div className="lab-predict">
          <MarkInputs mark={mark} />
          <button type="button" className="lab-reveal" onClick={reveal} disabled={!mark} data-testid="lab-reveal">
            Reveal
          </button>
        </div>
      )}
      {/* Said to a screen reader as it appears: the reveal's answer and the miss. */}
      <div aria-live="polite">
        {text.answer && <p data-testid="lab-answer-text">{text.answer}</p>}
        {text.miss && (
          <p className="lab-miss" data-testid="lab-miss">
            {text.miss}
          </p>
        )}
      </div>
    </section>
  );
}
