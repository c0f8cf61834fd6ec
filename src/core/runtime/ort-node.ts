// The door to onnxruntime-node, for the CLI and the Node tests. Never imported by browser code.
import * as ort from 'onnxruntime-node';
import type { OrtModule } from './engine';

export const ortNode = ort as unknown as OrtModule;
