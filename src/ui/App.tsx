import { useEffect, useState } from 'react';
import { useStore, dismiss } from '../state/store';
import { loadPair, addUploads, loadEvalFolder } from '../state/actions';
import { FrontierChart } from './FrontierChart';
import { AccuracyTable } from './AccuracyTable';
import { AlphaControl } from './AlphaControl';
import { PairPanel, LoadingBar, EvalProgress } from './PairPanel';
import { Uploads } from './Uploads';
import { filesFromDrop, looksLikePair, filesFromInput } from './files';
import { importResults, exportResults } from '../state/imported';
import { PAPER_CURVES, PAPER_CITATION } from '../data/paper/paper';
import { ErrorBoundary } from './ErrorBoundary';
import { PaperPanel } from './PaperPanel';
import { isolate } from '../state/thin';

function Messages() {
  const messages = useStore((s) => s.messages);
  return (
    <div className="messages" aria-live="assertive">
      {messages.map((m) => (
        <div key={m.id} className={`message ${m.kind}`} role={m.kind === 'error' ? 'alert' : 'status'} data-testid={`message-${m.kind}`}>
          <span>{m.text}</span>
          <button type="button" className="icon" aria-label="Dismiss" onClick={() => dismiss(m.id)}>×</button>
        </div>
      ))}
    </div>
  );
}

function ViewControls() {
  const pair = useStore((s) => s.pair);
  const shift = useStore((s) => s.shift);
  const showEnsemble = useStore((s) => s.showEnsemble);
  const paper = useStore((s) => s.paper);
  const presenter = useStore((s) => s.presenter);
  const showRecorded = useStore((s) => s.showRecorded);
  if (!pair) return null;
  return (
    <div className="view-controls">
      <label>
        Shift{' '}
        <select value={shift} onChange={(e) => useStore.setState({ shift: e.currentTarget.value })} aria-label="Shift shown on the y axis">
          <option value="mean">Mean of all shifts</option>
          {pair.sets.filter((s) => s.role === 'shift').map((s) => <option key={s.id} value={s.id} title={s.name}>{isolate(s.name, 40)}</option>)}
        </select>
      </label>
      <label><input type="checkbox" checked={showEnsemble} onChange={(e) => useStore.setState({ showEnsemble: e.currentTarget.checked })} /> output-space ensemble</label>
      {pair.sweeps?.weight && (
        <label title="The weight-space sweep recorded for this member when the bundle was made (21 α on its eval sets)">
          <input type="checkbox" checked={showRecorded} onChange={(e) => useStore.setState({ showRecorded: e.currentTarget.checked })} data-testid="recorded-toggle" /> recorded sweep
        </label>
      )}
      <label>
        Paper{' '}
        <select value={paper} onChange={(e) => useStore.setState({ paper: e.currentTarget.value })} aria-label="Overlay a published curve">
          <option value="none">no overlay</option>
          {PAPER_CURVES.map((c) => <option key={c.id} value={c.id}>{c.label} on ImageNet (CVPR 2022)</option>)}
        </select>
      </label>
      <label className="button small file-action">
        Import results…
        <input type="file" hidden accept=".jsonl,.json,.txt,application/x-ndjson" data-testid="results-input" onChange={(e) => {
          const f = e.currentTarget.files?.[0];
          e.currentTarget.value = '';
          if (f) void importResults(f);
        }} />
      </label>
      <button type="button" className="small file-action" onClick={exportResults}>Export results</button>
      <label className="button small file-action" title="A folder laid out <set>/<class>/<image>, or a zip of one; the set named 'reference' (else the first) is the reference">
        Your eval sets…
        <input type="file" hidden multiple {...{ webkitdirectory: '' }} data-testid="evalset-input" onChange={(e) => {
          const files = filesFromInput(e.currentTarget.files);
          e.currentTarget.value = '';
          if (files.length) void loadEvalFolder(files);
        }} />
      </label>
      <label className="presenter-toggle"><input type="checkbox" checked={presenter} onChange={(e) => useStore.setState({ presenter: e.currentTarget.checked })} /> presenter view (P)</label>
    </div>
  );
}

export function App() {
  const presenter = useStore((s) => s.presenter);
  const paper = useStore((s) => s.paper);
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.key === 'p' || e.key === 'P') && !(e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement)) {
        useStore.setState((s) => ({ presenter: !s.presenter }));
      }
    };
    const onPaste = (e: ClipboardEvent) => {
      const files = Array.from(e.clipboardData?.files ?? []);
      if (files.length) void addUploads(files);
    };
    window.addEventListener('keydown', onKey);
    window.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('paste', onPaste);
    };
  }, []);

  const onDrop = async (e: React.DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const files = await filesFromDrop(e.dataTransfer);
    if (files.length === 0) return;
    if (looksLikePair(files)) {
      await loadPair({ kind: 'files', files }, 'the dropped pair');
      return;
    }
    // Folders (<set>/<class>/<image>) and zips are eval sets; loose files are images to classify.
    if (files.some((f) => f.path.includes('/')) || (files.length === 1 && /\.zip$/i.test(files[0]!.path))) {
      await loadEvalFolder(files);
      return;
    }
    await addUploads(files.map((f) => f.blob));
  };

  return (
    <div
      className={`app${presenter ? ' presenter' : ''}${dragging ? ' dragging' : ''}`}
      onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
      onDragLeave={(e) => { if (e.currentTarget === e.target) setDragging(false); }}
      onDrop={(e) => void onDrop(e)}
      data-testid="app"
    >
      <header>
        <h1>WiSE-FT Explorer</h1>
        <p className="tagline">
          Fine-tuning a zero-shot model (<span className="zs">α = 0</span> → <span className="ft">α = 1</span>) gains accuracy on the data it was tuned on
          but loses it under distribution shift. Averaging the two models' <em>weights</em> (<span className="wf">0 &lt; α &lt; 1</span>) keeps both.
        </p>
      </header>
      <ErrorBoundary view="the messages"><Messages /></ErrorBoundary>
      <ErrorBoundary view="the loading bar"><LoadingBar /></ErrorBoundary>
      <main>
        <div className="chart-col">
          <ErrorBoundary view="the view controls"><ViewControls /></ErrorBoundary>
          {/* In the presenter view the stylesheet sizes the chart to what the viewport leaves. */}
          <ErrorBoundary view="the frontier chart"><FrontierChart height={presenter ? '100%' : 440} /></ErrorBoundary>
          <ErrorBoundary view="the α control"><AlphaControl /></ErrorBoundary>
          <ErrorBoundary view="the evaluation progress"><EvalProgress /></ErrorBoundary>
        </div>
        <aside className="side-col">
          <ErrorBoundary view="the accuracy table"><AccuracyTable /></ErrorBoundary>
          <ErrorBoundary view="the paper's curve"><PaperPanel /></ErrorBoundary>
          <ErrorBoundary view="the pair panel"><PairPanel /></ErrorBoundary>
        </aside>
      </main>
      <ErrorBoundary view="your images"><Uploads /></ErrorBoundary>
      <footer className="muted small">
        <p>
          WiSE-FT: Wortsman et al., "Robust fine-tuning of zero-shot models", CVPR 2022. Weight-space ensembling θ(α) = (1−α)θ₀ + αθ₁ of a zero-shot CLIP and its
          fine-tuned copy. Everything runs in your browser.
        </p>
        {paper !== 'none' && <p>Overlay: {PAPER_CITATION}</p>}
      </footer>
    </div>
  );
}
