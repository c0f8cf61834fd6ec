import { useStore } from '../state/store';
import { filesFromInput } from './files';
import { FilePicker } from './FilePicker';
import { PAPER_CURVES } from '../data/paper/paper';
import { isolate } from '../state/thin';
import { useActions } from './actions';
import { LAB_STEPS } from '../state/lab';
import type { PairSummary } from '../worker/protocol';

function ShiftSelect({ pair }: { pair: PairSummary }) {
  const shift = useStore((s) => s.shift);
  const { setShift } = useActions();
  return (
    <label>
      Shift{' '}
      <select value={shift} onChange={(e) => setShift(e.currentTarget.value)} aria-label="Shift shown on the y axis">
        <option value="mean">Mean of all shifts</option>
        {pair.sets
          .filter((s) => s.role === 'shift')
          .map((s) => (
            <option key={s.id} value={s.id} title={s.name}>
              {isolate(s.name, 40)}
            </option>
          ))}
      </select>
    </label>
  );
}

function PaperSelect() {
  const paper = useStore((s) => s.paper);
  const { setPaper } = useActions();
  return (
    <label>
      Paper{' '}
      <select value={paper} onChange={(e) => setPaper(e.currentTarget.value)} aria-label="Overlay a published curve">
        <option value="none">no overlay</option>
        {PAPER_CURVES.map((c) => (
          <option key={c.id} value={c.id}>
            {c.label} on ImageNet (CVPR 2022)
          </option>
        ))}
      </select>
    </label>
  );
}

/** Results files in and out, and the user's own eval sets. */
function FileActions() {
  const { importResults, exportResults, loadEvalFolder } = useActions();
  return (
    <>
      <FilePicker
        className="button small file-action"
        accept=".jsonl,.json,.txt,application/x-ndjson"
        testId="results-input"
        onFiles={(files) => void importResults(files[0]!)}
      >
        Import results…
      </FilePicker>
      <button type="button" className="small file-action" onClick={exportResults}>
        Export results
      </button>
      <FilePicker
        className="button small file-action"
        title="A folder laid out <set>/<class>/<image>, or a zip of one; the set named 'reference' (else the first) is the reference"
        directory
        multiple
        testId="evalset-input"
        onFiles={(files) => void loadEvalFolder(filesFromInput(files))}
      >
        Your eval sets…
      </FilePicker>
    </>
  );
}

/** Enters the guided lab at its first step (a lab link opens one directly). */
function LabButton() {
  const labStep = useStore((s) => s.labStep);
  const { goToStep } = useActions();
  if (labStep !== null) return null;
  return (
    <button
      type="button"
      className="small"
      onClick={() => goToStep(1)}
      title={`${LAB_STEPS.length} steps: predict where a model lands, then see it`}
    >
      Guided lab
    </button>
  );
}

export function ViewControls() {
  const pair = useStore((s) => s.pair);
  const showEnsemble = useStore((s) => s.showEnsemble);
  const presenter = useStore((s) => s.presenter);
  const showRecorded = useStore((s) => s.showRecorded);
  const view = useActions();
  if (!pair) return null;
  return (
    <div className="view-controls">
      <ShiftSelect pair={pair} />
      <label>
        <input type="checkbox" checked={showEnsemble} onChange={(e) => view.setShowEnsemble(e.currentTarget.checked)} /> output-space
        ensemble
      </label>
      {pair.sweeps?.weight && (
        <label title="The weight-space sweep recorded for this member when the bundle was made (21 α on its eval sets)">
          <input
            type="checkbox"
            checked={showRecorded}
            onChange={(e) => view.setShowRecorded(e.currentTarget.checked)}
            data-testid="recorded-toggle"
          />{' '}
          recorded sweep
        </label>
      )}
      <PaperSelect />
      <FileActions />
      <LabButton />
      <label className="presenter-toggle">
        <input type="checkbox" checked={presenter} onChange={(e) => view.setPresenter(e.currentTarget.checked)} /> presenter view (P)
      </label>
    </div>
  );
}
