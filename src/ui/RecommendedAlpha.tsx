import type { ReactNode } from 'react';
import { useStore } from '../state/store';
import { recommendationView, type Finding, type RecommendationView } from '../state/recommended';
import { useActions } from './actions';

type Computing = Extract<RecommendationView, { state: 'computing' }>;
type Ready = Extract<RecommendationView, { state: 'ready' }>;
/** The parts every form of the callout shares: its heading, where α was chosen, and the button. */
interface Parts {
  a: string;
  title: string;
  head: ReactNode;
  chosen: ReactNode;
  go: ReactNode;
}

const tone = (f: Finding) => (f.direction === 'gain' ? 'up sig' : f.direction === 'loss' ? 'down sig' : 'ns');

function Said({ f, compact }: { f: Finding; compact: boolean }) {
  return (
    <span className={`finding ${tone(f)}`} data-direction={f.direction} data-n={f.delta.n} title={f.text}>
      {compact ? f.short : f.text}
    </span>
  );
}

/** Until α and both endpoints are computed on every image: how far along, never a number. */
function ComputingCallout({ v, compact, p }: { v: Computing; compact: boolean; p: Parts }) {
  const [done, total] = [v.done.toLocaleString('en'), v.total.toLocaleString('en')];
  const progress = compact ? `computing… ${done}/${total} images` : `computing… ${done} of ${total} images at α = ${p.a}, 0 and 1`;
  // In the presenter view on the head's line, so the chart keeps the room.
  const said = (
    <span className="muted small rec-computing" aria-live="polite">
      {progress}
    </span>
  );
  return (
    <section className={`recommended${compact ? ' compact' : ''}`} data-testid="recommended" data-state="computing" aria-label={p.title}>
      <div className="rec-head">
        {p.head}
        {p.chosen} {compact && <>· {said} </>}
        {p.go}
      </div>
      {!compact && <p className="rec-computing-line">{said}</p>}
    </section>
  );
}

/** The presenter view's one line. */
function CompactCallout({ v, p }: { v: Ready; p: Parts }) {
  const perSet =
    v.referenceImages === v.shiftImages / v.shiftSetCount ? `${v.referenceImages.toLocaleString('en')} images per set` : 'all images';
  return (
    <section className="recommended compact" data-testid="recommended" data-state="ready" aria-label={p.title}>
      <div className="rec-head">
        {p.head}
        {p.chosen}: shifts <Said f={v.shiftsVsZeroShot} compact /> vs zero-shot, <Said f={v.shiftsVsFineTuned} compact /> vs fine-tuned;
        reference <Said f={v.referenceVsFineTuned} compact /> vs fine-tuned{' '}
        <span className="muted small">(points, paired 95%, {perSet})</span> {p.go}
      </div>
    </section>
  );
}

function FullCallout({ v, p }: { v: Ready; p: Parts }) {
  return (
    <section className="recommended" data-testid="recommended" data-state="ready" aria-label={p.title}>
      <div className="rec-head">
        {p.head}
        {p.chosen} {p.go}
      </div>
      <ul>
        <li data-finding="shifts-vs-zero-shot">
          Mean of {v.shiftSetCount} shifts vs zero-shot: <Said f={v.shiftsVsZeroShot} compact={false} />
        </li>
        <li data-finding="shifts-vs-fine-tuned">
          Mean of shifts vs fine-tuned: <Said f={v.shiftsVsFineTuned} compact={false} />
        </li>
        <li data-finding="reference-vs-fine-tuned">
          Reference vs fine-tuned: <Said f={v.referenceVsFineTuned} compact={false} />
        </li>
      </ul>
      <p className="small muted">
        Measured live on {v.userSets ? 'your eval sets' : 'this bundle’s eval sets'}, which did not choose α; paired 95% intervals (the same
        images at both α).
      </p>
    </section>
  );
}

/**
 * What to notice at the α the bundle recommends (chosen on a validation draw, not on these sets):
 * the mean of shifts against both endpoints and the reference against fine-tuned, measured live and
 * paired. In the presenter view, one line. Nothing for a member without a recommendation.
 */
export function RecommendedAlpha({ compact }: { compact: boolean }) {
  const pair = useStore((s) => s.pair);
  const points = useStore((s) => s.points);
  const { setAlpha } = useActions();
  const v = recommendationView(pair, points);
  if (!v) return null;
  const a = v.alpha.toFixed(2);
  const p: Parts = {
    a,
    title: `Recommended α = ${a}`,
    head: (
      <strong>
        Recommended α = <span data-testid="recommended-alpha">{a}</span>
      </strong>
    ),
    chosen: (
      <span className="muted" title={`Chosen on: ${v.chosenOn}`}>
        {compact ? ' (validation draw)' : ' (chosen on a separate validation draw)'}
      </span>
    ),
    go: (
      <button type="button" className="go" onClick={() => setAlpha(v.alpha)} data-testid="recommended-go">
        Go to α = {a}
      </button>
    ),
  };
  if (v.state === 'computing') return <ComputingCallout v={v} compact={compact} p={p} />;
  return compact ? <CompactCallout v={v} p={p} /> : <FullCallout v={v} p={p} />;
}
