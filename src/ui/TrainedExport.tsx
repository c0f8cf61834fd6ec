// Downloads of the member just trained, which lives in the page's memory until another pair loads:
// its ONNX file, or the loaded bundle with it added, as one .zip. A thin view of
// state/controllers/trainedExport.ts.
import { useStore } from '../state/store';
import { useActions } from './actions';

function ExportProgress() {
  const busy = useStore((s) => s.trainedExport);
  if (!busy) return null;
  return (
    <span role="status" data-testid="trained-export-progress">
      {busy.what === 'bundle' ? ` zipping file ${busy.done} of ${busy.total}` : ' writing the ONNX file'}{' '}
      <progress max={busy.total} value={busy.done} />
    </span>
  );
}

function ExportButton({ title, onClick, testId, children }: { title: string; onClick(): void; testId: string; children: string }) {
  const idle = useStore((s) => s.probe.running === null && s.trainedExport === null);
  return (
    <button type="button" className="small" disabled={!idle} title={title} onClick={onClick} data-testid={testId}>
      {children}
    </button>
  );
}

export function TrainedExport() {
  const memberId = useStore((s) => s.probe.result?.memberId ?? null);
  const listed = useStore((s) => memberId !== null && (s.pair?.members.some((m) => m.id === memberId) ?? false));
  const { exportTrainedOnnx, exportTrainedBundle } = useActions();
  if (memberId === null || !listed) return null;
  return (
    <p className="small" data-testid="trained-export">
      It lives in this page until another pair loads. Keep it:{' '}
      <ExportButton
        title="The zero-shot graph with the trained weights in its initializers: the model at α = 1 with this member"
        onClick={() => void exportTrainedOnnx(memberId)}
        testId="trained-export-onnx"
      >
        Download its ONNX
      </ExportButton>{' '}
      <ExportButton
        title="The manifest with this member added and every file it lists; drop the .zip (or its unzipped folder) on this page to load it"
        onClick={() => void exportTrainedBundle(memberId)}
        testId="trained-export-bundle"
      >
        Download the bundle with it (.zip)
      </ExportButton>
      <ExportProgress />
    </p>
  );
}
