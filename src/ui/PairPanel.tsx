import { useState } from 'react';
import { useStore } from '../state/store';
import { useActions } from './actions';
import type { LoadProgress, PairSummary, RuntimeInfo } from '../worker/protocol';
import { memberTraits, selectedMember } from '../state/members';
import { filesFromInput } from './files';
import { UserText } from './UserText';
import { FilePicker } from './FilePicker';
import { isolate } from '../state/thin';
import { cachedLabel } from '../state/savedFrontier';
import { frontierProgress, timeLeftText } from '../state/progress';

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function LoadingBar() {
  const loading = useStore((s) => s.loading);
  const images = useStore((s) => s.evalImagesLoading);
  const { cancelLoad } = useActions();
  if (!loading) return images ? <EvalImagesBar progress={images.progress} /> : null;
  const p = loading.progress;
  const secs = (p?.elapsedMs ?? 0) / 1000;
  const loaded = p?.bundleLoaded ?? 0;
  const total = p?.bundleTotal ?? null;
  const speed = secs > 0 ? loaded / secs : 0;
  return (
    <div className="loading" role="status" aria-live="polite">
      <div>
        Loading {loading.label}
        {p ? ` — ${p.file}` : '…'}
      </div>
      <progress max={total ?? undefined} value={total ? loaded : undefined} />
      <div className="muted">
        {bytes(loaded)}
        {total ? ` of ${bytes(total)}` : ''}
        {speed > 0 ? ` · ${bytes(speed)}/s` : ''}{' '}
        <button type="button" data-testid="cancel-load" onClick={cancelLoad}>
          Cancel
        </button>
      </div>
    </div>
  );
}

/**
 * The pair's eval images, streamed after its first screen: the pair is in use meanwhile (no
 * Cancel: an evaluation needs them, and Cancel under the chart stops that).
 */
function EvalImagesBar({ progress: p }: { progress: LoadProgress & { elapsedMs: number } }) {
  const secs = p.elapsedMs / 1000;
  const speed = secs > 0 ? p.bundleLoaded / secs : 0;
  return (
    <div className="loading" role="status" aria-live="polite" data-testid="eval-images-loading">
      <div>Loading the eval images — {p.file}</div>
      <progress max={p.bundleTotal ?? undefined} value={p.bundleTotal ? p.bundleLoaded : undefined} />
      <div className="muted">
        {bytes(p.bundleLoaded)}
        {p.bundleTotal ? ` of ${bytes(p.bundleTotal)}` : ''}
        {speed > 0 ? ` · ${bytes(speed)}/s` : ''}
      </div>
    </div>
  );
}

function frontierStatus(fullMs: number | null, cachedAt: number | null, paused: boolean): string {
  if (cachedAt !== null) return cachedLabel(cachedAt);
  if (fullMs !== null) return `frontier complete in ${(fullMs / 1000).toFixed(1)} s`;
  return paused ? 'evaluation cancelled: α shows its estimate until Evaluate' : 'evaluation paused';
}

/** Images of the whole frontier evaluated, and the time left once a rate is measured. */
function FrontierCount({ pair }: { pair: PairSummary }) {
  const points = useStore((s) => s.points);
  const alpha = useStore((s) => s.alpha);
  const extrapolate = useStore((s) => s.extrapolate);
  const rate = useStore((s) => s.evalRate);
  const p = frontierProgress(pair, points, alpha, extrapolate);
  const eta = timeLeftText(p.left, rate);
  return (
    <>
      <progress max={p.total} value={p.done} />
      <span data-testid="eval-count">
        evaluating: {p.done.toLocaleString('en')} / {p.total.toLocaleString('en')} images of the frontier
        {eta ? ` · ${eta}` : ''}
      </span>
    </>
  );
}

export function EvalProgress() {
  const evaluating = useStore((s) => s.evaluating);
  const full = useStore((s) => s.fullFrontierMs);
  const cachedAt = useStore((s) => s.cachedAt);
  const paused = useStore((s) => s.evalPaused);
  const pair = useStore((s) => s.pair);
  const { cancelEvaluation, scheduleEvaluation } = useActions();
  if (!pair) return null;
  return (
    <div className="eval-progress" data-testid="eval-progress">
      {evaluating ? (
        <>
          <FrontierCount pair={pair} />
          <button type="button" onClick={cancelEvaluation}>
            Cancel
          </button>
        </>
      ) : (
        <>
          <span className="muted" data-testid="eval-status">
            {frontierStatus(full, cachedAt, paused)}
          </span>
          <button type="button" onClick={() => scheduleEvaluation(0)}>
            Evaluate
          </button>
        </>
      )}
    </div>
  );
}

/** The fine-tuned endpoint, for a bundle with several members (wiseft-pair/2). */
function MemberSelect() {
  const pair = useStore((s) => s.pair);
  const loading = useStore((s) => s.loading);
  const note = useStore((s) => s.memberNote);
  if (!pair) return null;
  return (
    <>
      {note && (
        <p className="muted small" role="status" data-testid="member-note">
          {note}
        </p>
      )}
      {pair.members.length > 1 && <MemberChoice pair={pair} disabled={loading !== null} />}
    </>
  );
}

function MemberChoice({ pair, disabled }: { pair: PairSummary; disabled: boolean }) {
  const { selectMember } = useActions();
  const current = selectedMember(pair);
  return (
    <div className="member-select">
      <label>
        Fine-tuned endpoint (α = 1){' '}
        <select
          value={pair.member}
          disabled={disabled}
          onChange={(e) => void selectMember(e.currentTarget.value)}
          aria-label="Fine-tuned member"
          data-testid="member-select"
        >
          {pair.members.map((m) => (
            <option key={m.id} value={m.id} title={m.description || undefined}>
              {isolate(m.name, 80)} ({memberTraits(m)})
            </option>
          ))}
        </select>
      </label>
      {current?.description && (
        <p className="muted small" data-testid="member-description">
          {current.description}
        </p>
      )}
    </div>
  );
}

function BackendBadge({ runtime }: { runtime: RuntimeInfo }) {
  return (
    <span
      className={`badge ${runtime.backend}`}
      title={
        runtime.gpu ? `${runtime.gpu.vendor} ${runtime.gpu.architecture} ${runtime.gpu.description}` : `${runtime.threads} wasm thread(s)`
      }
      data-testid="backend"
    >
      {runtime.backend === 'webgpu' ? `WebGPU${runtime.gpu?.isFallbackAdapter ? ' (software)' : ''}` : `CPU · wasm × ${runtime.threads}`}
    </span>
  );
}

function PairFacts({ pair }: { pair: PairSummary }) {
  return (
    <p className="muted small">
      {pair.engine.blendedTensors} tensors blended ({bytes(pair.engine.blendedBytes)}), {pair.engine.sharedTensors} shared ·{' '}
      {pair.classes.length} classes · input {pair.inputSize}px
    </p>
  );
}

function UrlForm() {
  const [url, setUrl] = useState('');
  const { loadPair } = useActions();
  return (
    <form
      className="row"
      onSubmit={(e) => {
        e.preventDefault();
        if (url.trim()) void loadPair({ kind: 'url', url: url.trim() }, url.trim());
      }}
    >
      <input
        type="url"
        placeholder="https://…/manifest.json"
        value={url}
        onChange={(e) => setUrl(e.currentTarget.value)}
        aria-label="URL of a pair's manifest.json"
      />
      <button type="submit">Load URL</button>
    </form>
  );
}

function PairButtons({ hasPair }: { hasPair: boolean }) {
  const { loadPair, bundledPairUrl, exportBlended } = useActions();
  return (
    <div className="row">
      <FilePicker
        className="button"
        directory
        multiple
        onFiles={(files) => void loadPair({ kind: 'files', files: filesFromInput(files) }, 'the dropped pair')}
      >
        Open pair folder…
      </FilePicker>
      <FilePicker
        className="button"
        accept=".zip,application/zip"
        title="A bundle as one .zip: its folder zipped, or one this page wrote with a member trained here"
        testId="pair-zip-input"
        onFiles={(files) => void loadPair({ kind: 'files', files: filesFromInput(files) }, 'the dropped pair')}
      >
        Open pair .zip…
      </FilePicker>
      <button type="button" onClick={() => void loadPair({ kind: 'url', url: bundledPairUrl() }, 'the bundled pair')}>
        Bundled pair
      </button>
      <button type="button" onClick={() => void exportBlended()} disabled={!hasPair}>
        Download θ(α) as .onnx
      </button>
    </div>
  );
}

export function PairPanel() {
  const pair = useStore((s) => s.pair);
  const runtime = useStore((s) => s.runtime);
  const pairError = useStore((s) => s.pairError);
  return (
    <section className="pair-panel" aria-label="Checkpoint pair">
      <div className="pair-title">
        <h2>{pair ? <UserText text={pair.name} /> : 'No pair loaded'}</h2>
        {runtime && <BackendBadge runtime={runtime} />}
      </div>
      {pair && <p className="muted pair-desc">{pair.description}</p>}
      <MemberSelect />
      {pair && <PairFacts pair={pair} />}
      {pairError && (
        <p className="error" role="alert" data-testid="pair-error">
          {pairError}
        </p>
      )}
      <UrlForm />
      <PairButtons hasPair={pair !== null} />
      {pair?.citation && <p className="muted small">Cite: {pair.citation}</p>}
    </section>
  );
}
