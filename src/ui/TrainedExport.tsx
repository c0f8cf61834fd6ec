// Downloads of a member trained in this page, which lives in the page's memory until another pair
// loads: its ONNX file, or the loaded bundle with it added, as one .zip. Every member trained on the
// pair can be chosen (the latest first). A thin view of state/controllers/trainedExport.ts.
import { useState } from 'react';
import { useStore } from '../state/store';
import { useActions } from './actions';
import { isolate } from '../state/thin';

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

/** The members trained here, newest first, as id and name. */
function useTrainedMembers(): { id: string; name: string }[] {
  const pair = useStore((s) => s.pair);
  if (!pair) return [];
  return pair.trainedHere
    .map((id) => pair.members.find((m) => m.id === id))
    .filter((m) => m !== undefined)
    .map(({ id, name }) => ({ id, name }))
    .reverse();
}

function MemberPicker({ members, value, onPick }: { members: { id: string; name: string }[]; value: string; onPick(id: string): void }) {
  return (
    <label>
      Member{' '}
      <select
        value={value}
        onChange={(e) => onPick(e.currentTarget.value)}
        aria-label="Member to download"
        data-testid="trained-export-member"
      >
        {members.map((m) => (
          <option key={m.id} value={m.id}>
            {isolate(m.name, 80)}
          </option>
        ))}
      </select>{' '}
    </label>
  );
}

export function TrainedExport() {
  const members = useTrainedMembers();
  const [picked, setPicked] = useState<string | null>(null);
  const { exportTrainedOnnx, exportTrainedBundle } = useActions();
  if (members.length === 0) return null;
  // A pick from an earlier pair (or none yet) falls back to the latest member trained.
  const memberId = members.some((m) => m.id === picked) ? picked! : members[0]!.id;
  const one = members.length === 1;
  return (
    <p className="small" data-testid="trained-export">
      {one ? 'It lives' : `The ${members.length} members trained here live`} in this page until another pair loads. Keep{' '}
      {one ? 'it' : 'one'}: {!one && <MemberPicker members={members} value={memberId} onPick={setPicked} />}
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
