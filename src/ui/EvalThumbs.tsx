// Eval images as small thumbnails: a component asks for the ones it shows (the samples controller
// fetches each once from the engine) and draws them as they arrive.
import { useEffect } from 'react';
import { useStore, thumbnailKey } from '../state/store';
import { imageClass } from '../state/lesson';
import { useActions } from './actions';

/** Thumbnails are drawn at this size whatever the model's: 32px tiles would be too small to read. */
const SHOWN_PX = 48;

function EvalThumb({ setId, index }: { setId: string; index: number }) {
  const url = useStore((s) => s.thumbnails[thumbnailKey(setId, index)]);
  const label = useStore((s) => (s.pair ? imageClass(s.pair, s.evalLabels, setId, index) : null));
  const title = `${setId} image ${index}${label ? `: ${label}` : ''}`;
  return (
    <li className="thumb" title={title}>
      {url ? (
        <img src={url} width={SHOWN_PX} height={SHOWN_PX} alt={title} />
      ) : (
        <span className="thumb-wait" aria-label={`${title} (loading)`} />
      )}
      {label ? <span className="thumb-label">{label}</span> : null}
    </li>
  );
}

/** A row of a set's images, asked for once per set and list of indices. */
export function ThumbRow({ setId, indices, label }: { setId: string; indices: readonly number[]; label: string }) {
  const { requestThumbnails } = useActions();
  const key = indices.join(',');
  useEffect(() => {
    if (key) requestThumbnails(setId, key.split(',').map(Number));
  }, [setId, key, requestThumbnails]);
  if (indices.length === 0) return <p className="muted small">none</p>;
  return (
    <ul className="thumb-row" aria-label={label} data-testid="thumb-row">
      {indices.map((i) => (
        <EvalThumb key={i} setId={setId} index={i} />
      ))}
    </ul>
  );
}
