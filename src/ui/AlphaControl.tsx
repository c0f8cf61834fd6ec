import { useStore } from '../state/store';
import { useActions } from './actions';

function ExtrapolateToggle() {
  const extrapolate = useStore((s) => s.extrapolate);
  const { setExtrapolate } = useActions();
  return (
    <label className="extrapolate">
      <input type="checkbox" checked={extrapolate} onChange={(e) => setExtrapolate(e.currentTarget.checked)} data-testid="extrapolate" />{' '}
      Extrapolate (α from −0.5 to 1.5{extrapolate ? '; shaded: outside [0, 1], past the two models' : ''})
    </label>
  );
}

export function AlphaControl() {
  const alpha = useStore((s) => s.alpha);
  const playing = useStore((s) => s.playing);
  const extrapolate = useStore((s) => s.extrapolate);
  const { setAlpha, togglePlay } = useActions();
  return (
    <div className={extrapolate ? 'alpha-control extrapolating' : 'alpha-control'}>
      <label htmlFor="alpha">
        <span className="alpha-symbol">α</span> mixing weight
      </label>
      <span className="alpha-end zs">zero-shot</span>
      {/* Chromium paints no background under a native range input: the shade is a sibling in its grid cell. */}
      {extrapolate && <span className="alpha-shade" aria-hidden="true" data-testid="alpha-shade" />}
      <input
        id="alpha"
        type="range"
        min={extrapolate ? -0.5 : 0}
        max={extrapolate ? 1.5 : 1}
        step={0.01}
        value={alpha}
        data-extrapolated={alpha < 0 || alpha > 1}
        aria-label="α (alpha): weight of the fine-tuned model"
        aria-valuetext={`alpha ${alpha.toFixed(2)}`}
        onChange={(e) => setAlpha(Number(e.currentTarget.value))}
      />
      <span className="alpha-end ft">fine-tuned</span>
      <output htmlFor="alpha" data-testid="alpha-value">
        {alpha.toFixed(2)}
      </output>
      <button type="button" onClick={togglePlay} aria-label={playing ? 'Pause the α sweep' : 'Play: sweep α from 0 to 1'}>
        {playing ? '❚❚' : '▶'}
      </button>
      <p className="formula">
        θ(α) = (1 − α)·θ<sub>zero-shot</sub> + α·θ<sub>fine-tuned</sub>, every weight, head included
        {alpha < 0 || alpha > 1 ? ' (extrapolated: α outside [0, 1])' : ''} <ExtrapolateToggle />
      </p>
    </div>
  );
}
