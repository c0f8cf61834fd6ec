import { useStore } from '../state/store';
import { useActions } from './actions';

export function AlphaControl() {
  const alpha = useStore((s) => s.alpha);
  const playing = useStore((s) => s.playing);
  const { setAlpha, togglePlay } = useActions();
  return (
    <div className="alpha-control">
      <label htmlFor="alpha">
        <span className="alpha-symbol">α</span> mixing weight
      </label>
      <span className="alpha-end zs">zero-shot</span>
      <input
        id="alpha"
        type="range"
        min={0}
        max={1}
        step={0.01}
        value={alpha}
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
      </p>
    </div>
  );
}
