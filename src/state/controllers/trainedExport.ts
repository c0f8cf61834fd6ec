// Downloads of a member trained in the page, which otherwise lives in memory until another pair
// loads: its ONNX file (the zero-shot graph with the trained weights), or the whole bundle with it
// added as one .zip that the page loads again when dropped. One export at a time, told apart by id.
import { errorMessage, type EngineApi } from '../../worker/protocol';
import { downloadBlob } from '../dom';
import { say, type State, type Store } from '../store';

export interface TrainedExportController {
  /** Downloads member `memberId`'s ONNX file; not while another export runs. */
  exportTrainedOnnx(memberId: string): Promise<void>;
  /** Downloads the loaded bundle with member `memberId` added, as one .zip; not while another export runs. */
  exportTrainedBundle(memberId: string): Promise<void>;
  dispose(): void;
}

type Busy = NonNullable<State['trainedExport']>;

/** A file name from the pair's name: letters and digits, the rest as single dashes. */
function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'pair'
  );
}

class TrainedExport implements TrainedExportController {
  private latest = 0;

  constructor(
    private readonly engine: EngineApi,
    private readonly store: Store,
    private readonly download: (blob: Blob, filename: string) => void,
  ) {}

  exportTrainedOnnx(memberId: string): Promise<void> {
    return this.run({ memberId, what: 'onnx', done: 0, total: 1 }, () => this.engine.exportTrainedOnnx(memberId), '.onnx');
  }

  exportTrainedBundle(memberId: string): Promise<void> {
    const id = this.latest + 1;
    const onProgress = (done: number, total: number) => {
      if (id === this.latest) this.store.setState({ trainedExport: { memberId, what: 'bundle', done, total } });
    };
    return this.run({ memberId, what: 'bundle', done: 0, total: 1 }, () => this.engine.exportBundle(memberId, onProgress), '.zip');
  }

  private async run(busy: Busy, exportBytes: () => Promise<Uint8Array>, extension: string): Promise<void> {
    const s = this.store.getState();
    if (s.trainedExport !== null || !s.pair) return;
    const id = ++this.latest;
    const name = `${slug(s.pair.name)}-${busy.what === 'bundle' ? 'with-' : ''}${busy.memberId}${extension}`;
    this.store.setState({ trainedExport: busy });
    try {
      const bytes = await exportBytes();
      if (id !== this.latest) return;
      const type = extension === '.zip' ? 'application/zip' : 'application/octet-stream';
      this.download(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }), name);
    } catch (e) {
      if (id === this.latest) say('error', `Export failed: ${errorMessage(e)}`, this.store);
    } finally {
      if (id === this.latest) this.store.setState({ trainedExport: null });
    }
  }

  dispose(): void {
    this.latest++;
    this.store.setState({ trainedExport: null });
  }
}

export function createTrainedExport(engine: EngineApi, store: Store, download = downloadBlob): TrainedExportController {
  return new TrainedExport(engine, store, download);
}
