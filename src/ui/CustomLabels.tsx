// Custom labels for the uploads' zero-shot head: typed comma-separated, checked against the text
// encoder's vocabulary before anything runs (controllers/uploads.ts), the vocabulary one click away.
import { useState } from 'react';
import { useStore } from '../state/store';
import type { PairSummary } from '../worker/protocol';
import { useActions } from './actions';
import { UserText } from './UserText';

const splitLabels = (text: string) =>
  text
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter(Boolean);

function Vocabulary({ words }: { words: string[] | null }) {
  if (!words) return <span className="muted small">The text encoder's tokenizer spells any word in pieces: no word is unknown to it.</span>;
  return (
    <details className="vocabulary" data-testid="vocabulary">
      <summary>The words the text encoder knows ({words.length})</summary>
      <p className="small">{words.join(' ')}</p>
    </details>
  );
}

function LabelWarning() {
  const warning = useStore((s) => s.labelWarning);
  const { setCustomLabels } = useActions();
  if (!warning) return null;
  return (
    <div className="label-warning" role="alert" data-testid="label-warning">
      Not run yet: the text encoder does not know{' '}
      {warning.unknown.map((w, i) => (
        <span key={w}>
          {i > 0 ? ', ' : ''}“<UserText text={w} />”
        </span>
      ))}
      . It reads every unknown word as the same [UNK] token, so labels that differ only there get the same head.{' '}
      <button type="button" onClick={() => void setCustomLabels(warning.labels, true)}>
        Use anyway
      </button>
    </div>
  );
}

/** The field's text, which follows the labels asked for (a link's, once read) without remounting:
 * a remount would take the keyboard's focus away from the field just submitted. */
function useLabelField(): [string, (text: string) => void] {
  const asked = useStore((s) => s.customLabels ?? s.labelWarning?.labels ?? null)?.join(', ') ?? '';
  const [labels, setLabels] = useState(asked);
  const [shown, setShown] = useState(asked);
  if (asked !== shown) {
    setShown(asked);
    setLabels(asked);
  }
  return [labels, setLabels];
}

export function CustomLabels({ pair }: { pair: PairSummary }) {
  const customLabels = useStore((s) => s.customLabels);
  const labelError = useStore((s) => s.labelError);
  const [labels, setLabels] = useLabelField();
  const { setCustomLabels } = useActions();
  const submit = () => {
    const list = splitLabels(labels);
    void setCustomLabels(list.length ? list : null);
  };
  return (
    <form
      className="custom-labels"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <div className="row">
        <input
          value={labels}
          onChange={(e) => setLabels(e.currentTarget.value)}
          placeholder={`custom labels, comma-separated (e.g. ${pair.classes.slice(0, 3).join(', ')})`}
          aria-label="Custom class labels"
          data-testid="custom-labels"
        />
        <button type="submit">Use labels</button>
        {customLabels && <ResetLabels onReset={() => setLabels('')} />}
      </div>
      {customLabels && <LabelsInUse count={customLabels.length} templates={pair.templates.length} />}
      <LabelWarning />
      {labelError && <span className="error">{labelError}</span>}
      <Vocabulary words={pair.vocabulary} />
    </form>
  );
}

function LabelsInUse({ count, templates }: { count: number; templates: number }) {
  return (
    <span className="muted small" data-testid="custom-labels-in-use">
      zero-shot head from the text encoder: {count} labels × {templates} templates
    </span>
  );
}

function ResetLabels({ onReset }: { onReset: () => void }) {
  const { setCustomLabels } = useActions();
  return (
    <button
      type="button"
      onClick={() => {
        onReset();
        void setCustomLabels(null);
      }}
    >
      Pair's classes
    </button>
  );
}
