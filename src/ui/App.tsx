import { useEffect, useMemo, useState } from 'react';
import { useStore } from '../state/store';
import { FrontierChart } from './FrontierChart';
import { AccuracyTable } from './AccuracyTable';
import { AlphaControl } from './AlphaControl';
import { LayerAlphaPanel } from './LayerAlphaPanel';
import { SoupsPanel } from './SoupsPanel';
import { CalibrationPanel } from './CalibrationPanel';
import { RecommendedAlpha } from './RecommendedAlpha';
import { PairPanel, LoadingBar, EvalProgress } from './PairPanel';
import { FrontierTable } from './FrontierTable';
import { Uploads } from './Uploads';
import { Lesson } from './Lesson';
import { filesFromDrop, looksLikePair } from './files';
import { PAPER_CITATION } from '../data/paper/paper';
import { ErrorBoundary } from './ErrorBoundary';
import { PaperPanel } from './PaperPanel';
import { ViewControls } from './ViewControls';
import { LinearProbePanel } from './LinearProbePanel';
import { useActions } from './actions';
import type { AppActions } from '../state/app';
import { hiddenParts, type HidePart } from '../state/lab';
import { LabPanel } from './LabPanel';
import { MovedPanel } from './MovedPanel';

type Shown = (part: HidePart) => boolean;

/** What the page shows: all but what the link hides and what a lab step keeps back. */
function useShown(): Shown {
  const hide = useStore((s) => s.hidden);
  const n = useStore((s) => s.labStep);
  const revealed = useStore((s) => s.revealed);
  return useMemo(() => {
    const hidden = hiddenParts(hide, n, revealed);
    return (part) => !hidden.has(part);
  }, [hide, n, revealed]);
}

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

/** A drop is a pair (manifest + models, or a zip of them), eval sets (folders, a zip) or images to classify. */
async function routeDrop(actions: AppActions, data: DataTransfer): Promise<void> {
  const files = await filesFromDrop(data);
  if (files.length === 0) return;
  if (looksLikePair(files)) {
    await actions.loadPair({ kind: 'files', files }, 'the dropped pair');
  } else if (files.length === 1 && /\.zip$/i.test(files[0]!.path)) {
    await actions.loadZip(files);
  } else if (files.some((f) => f.path.includes('/'))) {
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

function SideColumn({ shown }: { shown: Shown }) {
  return (
    <aside className="side-col">
      {shown('table') && (
        <ErrorBoundary view="the accuracy table">
          <AccuracyTable />
        </ErrorBoundary>
      )}
      {shown('paper') && (
        <ErrorBoundary view="the paper's curve">
          <PaperPanel />
        </ErrorBoundary>
      )}
      {shown('pair') && (
        <ErrorBoundary view="the pair panel">
          <PairPanel />
        </ErrorBoundary>
      )}
      {shown('pair') && (
        <ErrorBoundary view="the linear probe">
          <LinearProbePanel />
        </ErrorBoundary>
      )}
    </aside>
  );
}

function MainColumns({ presenter, shown }: { presenter: boolean; shown: Shown }) {
  const paper = useStore((s) => s.paper);
  // A column with nothing in it would leave half the screen blank (a lab step keeps the table back,
  // the presenter view hides the pair panel, the paper panel is empty without an overlay).
  const side = shown('table') || (paper !== 'none' && shown('paper')) || (!presenter && shown('pair'));
  return (
    <main className={side ? undefined : 'single'}>
      <div className="chart-col">
        {shown('controls') && (
          <ErrorBoundary view="the view controls">
            <ViewControls />
          </ErrorBoundary>
        )}
        <ErrorBoundary view="the guided lab">
          <LabPanel />
        </ErrorBoundary>
        {/* In the presenter view the stylesheet sizes the chart to what the viewport leaves. */}
        <ErrorBoundary view="the frontier chart">
          <FrontierChart height={presenter ? '100%' : 440} />
        </ErrorBoundary>
        <ErrorBoundary view="the frontier's table">
          <FrontierTable />
        </ErrorBoundary>
        <ErrorBoundary view="the α control">
          <AlphaControl />
        </ErrorBoundary>
        {shown('recommended') && (
          <ErrorBoundary view="the recommended α">
            <RecommendedAlpha compact={presenter} />
          </ErrorBoundary>
        )}
        <ErrorBoundary view="the evaluation progress">
          <EvalProgress />
        </ErrorBoundary>
        {!presenter && <WeightSpaceLab />}
      </div>
      {side && <SideColumn shown={shown} />}
    </main>
  );
}

/** The weight-space lab's panels, which the presenter view leaves out. */
function WeightSpaceLab() {
  return (
    <>
      <ErrorBoundary view="the per-layer α panel">
        <LayerAlphaPanel />
      </ErrorBoundary>
      <ErrorBoundary view="the soups panel">
        <SoupsPanel />
      </ErrorBoundary>
      <ErrorBoundary view="the calibration panel">
        <CalibrationPanel />
      </ErrorBoundary>
    </>
  );
}

function Below({ presenter, shown }: { presenter: boolean; shown: Shown }) {
  // The lesson's counts give away what the lab asks students to predict, so it follows the table.
  return (
    <>
      {!presenter && shown('table') && (
        <ErrorBoundary view="the eval sets and what flips">
          <Lesson />
        </ErrorBoundary>
      )}
      {shown('uploads') && (
        <ErrorBoundary view="your images">
          <Uploads />
        </ErrorBoundary>
      )}
      {/* Not in the presenter view nor in a lab step's link: a table for reading, not for a talk. */}
      {!presenter && shown('pair') && (
        <ErrorBoundary view="what fine-tuning moved">
          <MovedPanel />
        </ErrorBoundary>
      )}
      <Footer />
    </>
  );
}

export function App() {
  const presenter = useStore((s) => s.presenter);
  const actions = useActions();
  const shown = useShown();
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
      {shown('header') && <Header />}
      <ErrorBoundary view="the messages">
        <Messages />
      </ErrorBoundary>
      <ErrorBoundary view="the loading bar">
        <LoadingBar />
      </ErrorBoundary>
      <MainColumns presenter={presenter} shown={shown} />
      <Below presenter={presenter} shown={shown} />
    </div>
  );
}
