import { useStore } from '../state/store';
import type { ReactNode } from 'react';
import { flipsTable, shiftsFlips, type FlipGroup, type SetFlips } from '../state/flips';
import { ThumbRow } from './EvalThumbs';
import { UserText } from './UserText';

const GROUPS = [
  ['zeroShotOnly', 'zero-shot ✓ fine-tuned ✗'],
  ['fineTunedOnly', 'zero-shot ✗ fine-tuned ✓'],
  ['bothRight', 'both ✓'],
  ['bothWrong', 'both ✗'],
] as const;

/** "k of m" right at α, with the numbers as data for the tests. */
function GroupCell({ g, name }: { g: FlipGroup; name: string }) {
  return (
    <td className="num" data-group={name} data-count={g.count} data-right-now={g.rightNow}>
      {g.rightNow.toLocaleString('en')} <span className="muted">of {g.count.toLocaleString('en')}</span>
    </td>
  );
}

function FlipsRowView({ id, name, f, className }: { id: string; name: ReactNode; f: SetFlips | null; className: string }) {
  return (
    <tr data-set={id} data-n={f?.n ?? 0} className={className}>
      <th scope="row">{name}</th>
      <td className="num">{f ? f.n.toLocaleString('en') : '…'}</td>
      {GROUPS.map(([key]) => (f ? <GroupCell key={key} g={f[key]} name={key} /> : <td key={key} className="num muted" />))}
    </tr>
  );
}

/** One group's thumbnails, split by the verdict at α. */
function GroupThumbs({ setId, g, title, alpha }: { setId: string; g: FlipGroup; title: string; alpha: number }) {
  const a = alpha.toFixed(2);
  return (
    <div className="flip-group">
      <h4>
        {title} <span className="muted">· {g.count.toLocaleString('en')} images</span>
      </h4>
      <p className="small flip-kind">
        α = {a} right: {g.rightNow.toLocaleString('en')}
      </p>
      <ThumbRow setId={setId} indices={g.samplesRight} label={`${title}, right at α = ${a}`} />
      <p className="small flip-kind">
        α = {a} wrong: {(g.count - g.rightNow).toLocaleString('en')}
      </p>
      <ThumbRow setId={setId} indices={g.samplesWrong} label={`${title}, wrong at α = ${a}`} />
    </div>
  );
}

function SetFlipThumbs({ setId, name, f, alpha }: { setId: string; name: string; f: SetFlips; alpha: number }) {
  return (
    <div className="flip-thumbs" data-testid="flip-thumbs" data-set={setId}>
      <p className="small muted">
        On <UserText text={name} />, of the {f.n.toLocaleString('en')} images computed at α = 0, 1 and {alpha.toFixed(2)}:
      </p>
      <GroupThumbs setId={setId} g={f.zeroShotOnly} title="Fine-tuning broke (zero-shot ✓, fine-tuned ✗)" alpha={alpha} />
      <GroupThumbs setId={setId} g={f.fineTunedOnly} title="Fine-tuning fixed (zero-shot ✗, fine-tuned ✓)" alpha={alpha} />
    </div>
  );
}

function FlipsHead() {
  return (
    <thead>
      <tr>
        <th>set</th>
        <th className="num">n</th>
        {GROUPS.map(([key, label]) => (
          <th key={key} className="num">
            {label}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** Images grouped by the endpoints' verdicts, and how many of each group the current α gets right. */
export function FlipsView({ setId }: { setId: string | null }) {
  const pair = useStore((s) => s.pair);
  const points = useStore((s) => s.points);
  const alpha = useStore((s) => s.alpha);
  if (!pair) return null;
  const rows = flipsTable(pair, points, alpha);
  const shown = rows.find((r) => r.set.id === setId);
  return (
    // On a phone the six columns scroll sideways in this box: focusable, so a keyboard can scroll it too.
    <div className="flips" data-testid="flips-view" role="region" aria-label="What flips" tabIndex={0}>
      <table className="acc-table flips-table">
        <caption>
          What flips: right at α = <strong>{alpha.toFixed(2)}</strong>, of the images in each group (n: images computed at α = 0, 1 and{' '}
          {alpha.toFixed(2)})
        </caption>
        <FlipsHead />
        <tbody>
          {rows.map((r) => (
            <FlipsRowView
              key={r.set.id}
              id={r.set.id}
              name={<UserText text={r.set.name} />}
              f={r.flips}
              className={r.set.role === 'reference' ? 'ref-row' : ''}
            />
          ))}
          <FlipsRowView id="shifts" name="All shifts" f={shiftsFlips(rows)} className="mean-row" />
        </tbody>
      </table>
      {shown?.flips ? <SetFlipThumbs setId={shown.set.id} name={shown.set.name} f={shown.flips} alpha={alpha} /> : null}
    </div>
  );
}
