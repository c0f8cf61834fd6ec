// "Fine-tune it yourself": a thin view of the probe controller (state/controllers/linearProbe.ts):
// a linear probe (the head) or end-to-end (every weight). The training runs in the Worker; the
// slider stays live meanwhile.
import { openingHash, useStore, type ProbeStage, type State } from '../state/store';
import { useActions } from './actions';
import { FilePicker } from './FilePicker';
import { filesFromInput } from './files';
import { UserText } from './UserText';
import { TrainedExport } from './TrainedExport';
import { useEffect, useRef } from 'react';
import { FINETUNE_PRESETS, type FineTunePresetId } from '../state/finetunePresets';

/** The test that proves the claim in the panel's last line. */
export const PROOF_TEST = 'tests/node/linear-probe.node.test.ts';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const PHASES = {
  decode: 'decoding the folder',
  'held-out': 'rendering the held-out images',
  'training-render': 'rendering a chunk of the training images',
  'held-out-features': 'feature pass on the held-out images',
  features: 'feature pass (zero-shot tower)',
  epoch: 'training the head, epoch',
  step: 'training every weight, step',
} as const;

/** What the job is doing, in words; `done` / `total` follow it. */
function stageLabel(stage: ProbeStage): string {
  if (stage.phase !== 'held-out-accuracy') return PHASES[stage.phase];
  return `held-out accuracy ${stage.epoch === 0 ? 'before the first step' : `after epoch ${stage.epoch}`}, image`;
}

function ProbeStatus({ probe }: { probe: State['probe'] }) {
  const { stage, validation, result, running, loss, error, paused } = probe;
  return (
    <div className="small" role="status" data-testid="probe-status">
      {running !== null && stage && (
        <p>
          {stageLabel(stage)} {stage.done} / {stage.total}
          {paused && ' (paused)'}
          <progress max={stage.total} value={stage.done} />
        </p>
      )}
      {running !== null && (validation || loss !== null) && (
        <p data-testid="probe-validation">
          {loss !== null && `Loss ${loss.toFixed(3)}`}
          {loss !== null && validation && ' · '}
          {validation && `Held-out accuracy ${pct(validation.accuracy)} (n = ${validation.n})`}
        </p>
      )}
      {error && (
        <p className="error" data-testid="probe-error">
          <UserText text={error} />
        </p>
      )}
      {running === null && result && (
        <p data-testid="probe-result">
          New member: <UserText text={result.memberName} /> ({result.trainCount} images trained on)
          {result.validation &&
            `; held-out accuracy ${pct(result.validation.initial)} zero-shot → ${pct(result.validation.accuracy)} (n = ${result.validation.n})`}
          . Pick it as the fine-tuned endpoint above.
        </p>
      )}
    </div>
  );
}

/** End to end on generated images needs no folder. */
const onWorld = (probe: State['probe']) => probe.method === 'end-to-end' && probe.source === 'world';

/** Start, or Pause/Resume and Cancel while a job runs. */
function RunButtons({ probe, canStart }: { probe: State['probe']; canStart: boolean }) {
  const { startProbe, cancelProbe, setProbePaused } = useActions();
  if (probe.running === null)
    return (
      <button type="button" className="small" disabled={!canStart} onClick={() => void startProbe()} data-testid="probe-start">
        Start
      </button>
    );
  return (
    <>
      <button type="button" className="small" onClick={() => setProbePaused(!probe.paused)} data-testid="probe-pause">
        {probe.paused ? 'Resume' : 'Pause'}
      </button>{' '}
      <button type="button" className="small" onClick={cancelProbe} data-testid="probe-cancel">
        Cancel
      </button>
    </>
  );
}

function ProbeControls({ probe }: { probe: State['probe'] }) {
  const { chooseProbeFolder } = useActions();
  const world = onWorld(probe);
  return (
    <div className="probe-controls">
      {!world && (
        <FilePicker
          className="button small file-action"
          title="A folder laid out <class>/<image>, class folders named after the pair's classes"
          multiple
          directory
          testId="probe-folder-input"
          onFiles={(files) => chooseProbeFolder(filesFromInput(files))}
        >
          Training folder…
        </FilePicker>
      )}{' '}
      <RunButtons probe={probe} canStart={!!probe.folder || world} />{' '}
      {probe.folder && !world && (
        <span className="muted">
          <UserText text={probe.folder.name} />: {probe.folder.files} files
        </span>
      )}
    </div>
  );
}

const METHODS = [
  ['linear-probe', 'Linear probe (head only)'],
  ['end-to-end', 'End-to-end (every weight)'],
] as const;

/** A number field that hands its value to the controller on change; the controller refuses bad ones in words. */
function SettingField({
  label,
  value,
  step,
  onValue,
  testId,
}: {
  label: string;
  value: number;
  step: string;
  onValue(v: number): void;
  testId: string;
}) {
  const ref = useRef<HTMLInputElement>(null);
  // Uncontrolled while typed in (a half-typed "0.000" is refused, not shown back); a lab's value arrives here.
  useEffect(() => {
    const input = ref.current;
    if (input && input.ownerDocument.activeElement !== input) input.value = String(value);
  }, [value]);
  return (
    <label className="small">
      {label}{' '}
      <input
        ref={ref}
        type="number"
        min="0"
        step={step}
        defaultValue={value}
        onChange={(e) => onValue(e.target.valueAsNumber)}
        data-testid={testId}
      />
    </label>
  );
}

function MethodChoice({ probe }: { probe: State['probe'] }) {
  const { setProbeMethod } = useActions();
  return (
    <div className="probe-method">
      {/* A select, not radios: Tab reaches it as one control, and the keyboard changes it. */}
      <label className="small">
        Train{' '}
        <select
          value={probe.method}
          disabled={probe.running !== null}
          onChange={(e) => setProbeMethod(e.target.value as State['probe']['method'])}
          data-testid="probe-method"
        >
          {METHODS.map(([id, label]) => (
            <option key={id} value={id}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {probe.method === 'end-to-end' && <FineTuneSettings probe={probe} />}
    </div>
  );
}

const INITS = [
  ['linear-probe', 'a linear probe first (LP-FT: the bundled members’ recipe)'],
  ['zero-shot', 'the zero-shot head (plain end to end)'],
] as const;

/** End-to-end settings: the lab, the images, the head it starts from and the schedule. */
function FineTuneSettings({ probe }: { probe: State['probe'] }) {
  const { setFineTuneSettings } = useActions();
  const { epochs, lr, batchSize, init } = probe.fineTune;
  return (
    <fieldset disabled={probe.running !== null} className="probe-settings">
      <LabChoice probe={probe} />
      {probe.source === 'world' && <WorldSettings world={probe.world} />}
      <label className="small">
        Start from{' '}
        <select
          value={init}
          onChange={(e) => setFineTuneSettings({ init: e.target.value as State['probe']['fineTune']['init'] })}
          data-testid="finetune-init"
        >
          {INITS.map(([id, label]) => (
            <option key={id} value={id}>
              {label}
            </option>
          ))}
        </select>
      </label>{' '}
      <SettingField label="Epochs" value={epochs} step="1" onValue={(v) => setFineTuneSettings({ epochs: v })} testId="finetune-epochs" />{' '}
      <SettingField label="Learning rate" value={lr} step="any" onValue={(v) => setFineTuneSettings({ lr: v })} testId="finetune-lr" />{' '}
      <SettingField
        label="Batch size"
        value={batchSize}
        step="1"
        onValue={(v) => setFineTuneSettings({ batchSize: v })}
        testId="finetune-batch"
      />
    </fieldset>
  );
}

/** The labs, each a link (state/finetunePresets.ts), and where an end-to-end job's images come from. */
function LabChoice({ probe }: { probe: State['probe'] }) {
  const { applyFineTunePreset, setFineTuneSource } = useActions();
  return (
    <>
      <label className="small">
        Lab{' '}
        <select
          value={probe.preset ?? ''}
          onChange={(e) => e.target.value && applyFineTunePreset(e.target.value as FineTunePresetId)}
          data-testid="finetune-preset"
        >
          <option value="">Your own settings</option>
          {FINETUNE_PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
        </select>
      </label>{' '}
      <label className="small">
        Images{' '}
        <select
          value={probe.source}
          onChange={(e) => setFineTuneSource(e.target.value as State['probe']['source'])}
          data-testid="finetune-source"
        >
          <option value="folder">Your folder</option>
          <option value="world">Generated world (the bundled world's renderer)</option>
        </select>
      </label>
    </>
  );
}

/** A share from 0 to 1 as a 0–100% slider; `describe` words the value for screen readers. */
function PercentSlider(props: {
  label: string;
  value: number;
  onValue: (v: number) => void;
  describe: (pct: number) => string;
  testId: string;
}) {
  const pct = Math.round(100 * props.value);
  return (
    <label className="small">
      {props.label}{' '}
      <input
        type="range"
        min="0"
        max="100"
        step="1"
        value={pct}
        onChange={(e) => props.onValue(e.target.valueAsNumber / 100)}
        aria-valuetext={`${pct}%: ${props.describe(pct)}`}
        data-testid={props.testId}
      />{' '}
      {pct}%
    </label>
  );
}

/** The generated world's shortcut strength, style mix and image count. */
function WorldSettings({ world }: { world: State['probe']['world'] }) {
  const { setWorldSettings } = useActions();
  return (
    <div className="probe-world">
      <PercentSlider
        label="Shortcut strength"
        value={world.shortcut}
        onValue={(shortcut) => setWorldSettings({ shortcut })}
        describe={(p) => `the background has the class's colour in ${p}% of the training photos`}
        testId="finetune-shortcut"
      />{' '}
      <PercentSlider
        label="Style mix"
        value={world.styleMix}
        onValue={(styleMix) => setWorldSettings({ styleMix })}
        describe={(p) => `${p}% of the training images drawn as sketch, cartoon, painting, neon or pixel art, the rest photos`}
        testId="finetune-style-mix"
      />{' '}
      <SettingField label="Images" value={world.n} step="1" onValue={(v) => setWorldSettings({ n: v })} testId="finetune-images" />
      <p className="muted small">
        Reference photos drawn in the Worker by the world's renderer (the pipeline's own images for the same seed and count: 20,000 at seed
        0 are tools/build.py's), rendered a chunk at a time as training needs them; the held-out accuracy is on another draw of the same
        world (photos). The style mix redraws that share of them as sketch, cartoon, painting, neon or pixel art (sketches on white, neon on
        black); at 0% they are the pipeline's photos.
      </p>
    </div>
  );
}

/** A lab link (`finetune=`) opens at this panel, once, when the first pair is in: it is the last of the side column. */
function useScrollToLab(hasPair: boolean) {
  const ref = useRef<HTMLElement>(null);
  const done = useRef(false);
  useEffect(() => {
    if (!hasPair || done.current || openingHash.finetune === null) return;
    done.current = true;
    ref.current?.scrollIntoView({ block: 'start' });
  }, [hasPair]);
  return ref;
}

export function LinearProbePanel() {
  const probe = useStore((s) => s.probe);
  const hasPair = useStore((s) => s.pair !== null);
  const ref = useScrollToLab(hasPair);
  if (!hasPair) return null;
  return (
    <section ref={ref} className="probe-panel" aria-label="Fine-tune it yourself" data-testid="probe-panel">
      <h2>Fine-tune it yourself</h2>
      <p className="muted small">
        The bundle ships no training split (its sets are the test draw on the chart), so training uses your folder laid out
        &lt;class&gt;/&lt;image&gt;, a quarter of each class held out for validation, or, end to end, photos the bundled world's renderer
        generates with the background shortcut you choose (each lab is a link: <code>#finetune=shortcut-98</code>). A linear probe keeps the
        image tower frozen and trains the head; end-to-end trains every weight of the bundled image tower (the pipeline's recipe: AdamW,
        cosine schedule, random flips), a step at a time in the Worker, from the zero-shot head or, as the bundled end-to-end members were
        trained and as the labs do, LP-FT: first a linear probe of the head on the frozen features (learning rate 0.001, the same epochs and
        batch), then every weight from that head.
      </p>
      <MethodChoice probe={probe} />
      <ProbeControls probe={probe} />
      <ProbeStatus probe={probe} />
      <TrainedExport />
      <p className="small" data-testid="probe-proof">
        For a linear probe, interpolating the head's weights equals the output-space ensemble: logits are linear in the head, so (1 − α)·W₀z
        + α·W₁z = ((1 − α)·W₀ + α·W₁)·z. Proven on the bundled pair by <code>{PROOF_TEST}</code> (“weight-space interpolation of the head is
        the output-space ensemble”).
      </p>
    </section>
  );
}
