// The door to onnxruntime-node, for the CLI and the Node tests. Never imported by browser code.
import * as ort from 'onnxruntime-node';
import type { OrtModule } from './engine';

// onnxruntime's own logger writes to stderr before it throws: four lines for one failure, then the
// same text again in the exception. Only fatal lines are logged; every failure reaches us as an
// exception, which the engine words and names the file for. Read once, at the first session.
ort.env.logLevel = 'fatal';

export const ortNode = ort as unknown as OrtModule;
