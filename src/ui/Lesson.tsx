// The lesson under the chart: what each eval set looks like and says it is, which images flip
// between the endpoints and what the current α does with them, and accuracy per class.
import { useStore } from '../state/store';
import { lessonSetId, stripIndices } from '../state/lesson';
import type { SetSummary } from '../worker/protocol';
import { ThumbRow } from './EvalThumbs';
import { FlipsView } from './FlipsView';
import { PerClassTable } from './PerClassTable';
import { UserText } from './UserText';
import { useActions } from './actions';

function SetStrip({ set }: { set: SetSummary }) {
  const facts = [
    set.role === 'reference' ? 'reference' : 'shift',
    set.analogue ? `like ${set.analogue}` : null,
    `${set.count.toLocaleString('en')} images`,
  ];
  return (
    <li className="set-strip" data-testid="set-strip" data-set={set.id}>
      <h3>
        <UserText text={set.name} /> <span className="muted small">· {facts.filter(Boolean).join(' · ')}</span>
      </h3>
      {set.description ? <p className="small set-desc">{set.description}</p> : null}
      <ThumbRow setId={set.id} indices={stripIndices(set.count)} label={`Sample images of ${set.name}`} />
    </li>
  );
}

function SetPicker({ sets, value }: { sets: SetSummary[]; value: string | null }) {
  const { setLessonSet } = useActions();
  return (
    <label className="small">
      Set shown below:{' '}
      <select data-testid="lesson-set" value={value ?? ''} onChange={(e) => setLessonSet(e.target.value)}>
        {sets.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Lesson() {
  const pair = useStore((s) => s.pair);
  const setId = useStore((s) => (s.pair ? lessonSetId(s.pair, s.lessonSet, s.shift) : null));
  if (!pair) return null;
  return (
    <section className="lesson" data-testid="lesson" aria-label="The eval sets and what flips">
      <h2>The eval sets</h2>
      <ul className="set-strips">
        {pair.sets.map((s) => (
          <SetStrip key={s.id} set={s} />
        ))}
      </ul>
      <div className="lesson-head">
        <h2>What flips at this α</h2>
        <SetPicker sets={pair.sets} value={setId} />
      </div>
      <div className="lesson-cols">
        <FlipsView setId={setId} />
        <PerClassTable setId={setId} />
      </div>
    </section>
  );
}
