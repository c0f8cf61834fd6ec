import { useEffect, useState } from 'react';
import { useStore } from '../state/store';
import { FrontierChart } from './FrontierChart';
import { AccuracyTable } from './AccuracyTable';
import { AlphaControl } from './AlphaControl';
import { LayerAlphaPanel } from './LayerAlphaPanel';
import { RecommendedAlpha } from './RecommendedAlpha';
import { PairPanel, LoadingBar, EvalProgress } from './PairPanel';
import { Uploads } from './Uploads';
import { filesFromDrop, looksLikePair } from './files';
import { PAPER_CITATION } from '../data/paper/paper';
import { ErrorBoundary } from './ErrorBoundary';
import { PaperPanel } from './PaperPanel';
import { ViewControls } from './ViewControls';
import { useActions } from './actions';
import type { AppActions } from '../state/app';

function Messages() {
  const messages = useStore((s) => s.messages);
  const { dismiss } = useActions();
  return (
    <div className="messages" aria-live="assertive">
      {messages.map((m) => (
        <div key={m.id} className={`message ${m.kind}`} role={m.kind === 'error' ? 'alert' : 'status'} data-testid={`message-${m.kind}`}>
          <span>{m.text}</span>
          <button type="button" className="icon" aria-label="Dismiss" onClick={() => dismiss(m.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

const isTyping = (t: EventTarget | null) =>
  t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;

/** P toggles the presenter view (not while typing); a pasted image is classified. */
function useGlobalKeys(actions: AppActions): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.key === 'p' || e.key === 'P') && !isTyping(e.target)) actions.togglePresenter();
    };
    const onPaste = (e: ClipboardEvent) => {
      const files = Array.from(e.clipboardData?.files ?? []);
      if (files.length) void actions.addUploads(files);
    };
    window.addEventListener('keydown', onKey);
    window.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('paste', onPaste);
    };
  }, [actions]);
}

/** A drop is a pair (manifest + models), eval sets (folders, a zip) or images to classify. */
async function routeDrop(actions: AppActions, data: DataTransfer): Promise<void> {
  const files = await filesFromDrop(data);
  if (files.length === 0) return;
  if (looksLikePair(files)) {
    await actions.loadPair({ kind: 'files', files }, 'the dropped pair');
  } else if (files.some((f) => f.path.includes('/')) || (files.length === 1 && /\.zip$/i.test(files[0]!.path))) {
    await actions.loadEvalFolder(files);
  } else {
    await actions.addUploads(files.map((f) => f.blob));
  }
}

function Header() {
  return (
    <header>
      <h1>WiSE-FT Explorer</h1>
      <p className="tagline">
        Fine-tuning a zero-shot model (<span className="zs">α = 0</span> → <span className="ft">α = 1</span>) gains accuracy on the data it
        was tuned on but loses it under distribution shift. Averaging the two models' <em>weights</em> (
        <span className="wf">0 &lt; α &lt; 1</span>) keeps both.
      </p>
    </header>
  );
}

function Footer() {
  const paper = useStore((s) => s.paper);
  return (
    <footer className="muted small">
      <p>
        WiSE-FT: Wortsman et al., "Robust fine-tuning of zero-shot models", CVPR 2022. Weight-space ensembling θ(α) = (1−α)θ₀ + αθ₁ of a
        zero-shot CLIP and its fine-tuned copy. Everything runs in your browser.
      </p>
      {paper !== 'none' && <p>Overlay: {PAPER_CITATION}</p>}
    </footer>
  );
}

function MainColumns({ presenter }: { presenter: boolean }) {
  return (
    <main>
      <div className="chart-col">
        <ErrorBoundary view="the view controls">
          <ViewControls />
        </ErrorBoundary>
        {/* In the presenter view the stylesheet sizes the chart to what the viewport leaves. */}
        <ErrorBoundary view="the frontier chart">
          <FrontierChart height={presenter ? '100%' : 440} />
        </ErrorBoundary>
        <ErrorBoundary view="the α control">
          <AlphaControl />
        </ErrorBoundary>
        <ErrorBoundary view="the recommended α">
          <RecommendedAlpha compact={presenter} />
        </ErrorBoundary>
        <ErrorBoundary view="the evaluation progress">
          <EvalProgress />
        </ErrorBoundary>
        {!presenter && (
          <ErrorBoundary view="the per-layer α panel">
            <LayerAlphaPanel />
          </ErrorBoundary>
        )}
      </div>
      <aside className="side-col">
        <ErrorBoundary view="the accuracy table">
          <AccuracyTable />
        </ErrorBoundary>
        <ErrorBoundary view="the paper's curve">
          <PaperPanel />
        </ErrorBoundary>
        <ErrorBoundary view="the pair panel">
          <PairPanel />
        </ErrorBoundary>
      </aside>
    </main>
  );
}

export function App() {
  const presenter = useStore((s) => s.presenter);
  const actions = useActions();
  const [dragging, setDragging] = useState(false);
  useGlobalKeys(actions);
  const onDrop = (e: React.DragEvent) => {
    e.preventDefault();
    setDragging(false);
    void routeDrop(actions, e.dataTransfer);
  };
  return (
    <div
      className={`app${presenter ? ' presenter' : ''}${dragging ? ' dragging' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
      data-testid="app"
    >
      <Header />
      <ErrorBoundary view="the messages">
        <Messages />
      </ErrorBoundary>
      <ErrorBoundary view="the loading bar">
        <LoadingBar />
      </ErrorBoundary>
      <MainColumns presenter={presenter} />
      <ErrorBoundary view="your images">
        <Uploads />
      </ErrorBoundary>
      <Footer />
    </div>
  );
}
