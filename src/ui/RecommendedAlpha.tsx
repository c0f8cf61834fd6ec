import { useStore } from '../state/store';
import { recommendationView, type Finding } from '../state/recommended';
import { useActions } from './actions';

const tone = (f: Finding) => (f.direction === 'gain' ? 'up sig' : f.direction === 'loss' ? 'down sig' : 'ns');

function Said({ f, compact }: { f: Finding; compact: boolean }) {
  return (
    <span className={`finding ${tone(f)}`} data-direction={f.direction} data-n={f.delta.n} title={f.text}>
      {compact ? f.short : f.text}
    </span>
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
  const go = (
    <button type="button" className="go" onClick={() => setAlpha(v.alpha)} data-testid="recommended-go">
      Go to α = {a}
    </button>
  );
  const title = `Recommended α = ${a}`;
  const chosen = (
    <span className="muted" title={`Chosen on: ${v.chosenOn}`}>
      {compact ? ' (validation draw)' : ' (chosen on a separate validation draw)'}
    </span>
  );
  const head = (
    <strong>
      Recommended α = <span data-testid="recommended-alpha">{a}</span>
    </strong>
  );
  if (v.state === 'computing') {
    const [done, total] = [v.done.toLocaleString('en'), v.total.toLocaleString('en')];
    const progress = compact ? `computing… ${done}/${total} images` : `computing… ${done} of ${total} images at α = ${a}, 0 and 1`;
    // In the presenter view on the head's line, so the chart keeps the room.
    const said = (
      <span className="muted small rec-computing" aria-live="polite">
        {progress}
      </span>
    );
    return (
      <section className={`recommended${compact ? ' compact' : ''}`} data-testid="recommended" data-state="computing" aria-label={title}>
        <div className="rec-head">
          {head}
          {chosen} {compact && <>· {said} </>}
          {go}
        </div>
        {!compact && <p className="rec-computing-line">{said}</p>}
      </section>
    );
  }
  const perSet = `${v.referenceImages === v.shiftImages / v.shiftSetCount ? `${v.referenceImages.toLocaleString('en')} images per set` : 'all images'}`;
  if (compact)
    return (
      <section className="recommended compact" data-testid="recommended" data-state="ready" aria-label={title}>
        <div className="rec-head">
          {head}
          {chosen}: shifts <Said f={v.shiftsVsZeroShot} compact /> vs zero-shot, <Said f={v.shiftsVsFineTuned} compact /> vs fine-tuned;
          reference <Said f={v.referenceVsFineTuned} compact /> vs fine-tuned{' '}
          <span className="muted small">(points, paired 95%, {perSet})</span> {go}
        </div>
      </section>
    );
  return (
    <section className="recommended" data-testid="recommended" data-state="ready" aria-label={title}>
      <div className="rec-head">
        {head}
        {chosen} {go}
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
