// The core's error classes, mapped to the codes of the contract (protocol.ts). The message is kept
// word for word: it is what the user reads.
import { EngineError, type EngineErrorCode } from './protocol';
import { DownloadError } from '../core/bundle/net';
import { BundleError } from '../core/bundle/source';
import { ManifestError, UnknownMemberError } from '../core/bundle/manifest';
import { OnnxError } from '../core/onnx/model';
import { PairMismatchError } from '../core/onnx/pair';
import { PairCheckError } from '../core/loadCheck';
import { GpuBufferLimitError } from '../core/gpu/blend';
import { ImageTooLargeError } from '../core/image/header';
import { EvalFolderError } from '../core/eval/folder';
import { ImageDecodeError } from './decode';
import { TrainingError } from '../core/train/data';

// Most specific first: UnknownMemberError is a ManifestError, PairMismatchError an OnnxError.
const CODES: [new (...a: never[]) => Error, EngineErrorCode][] = [
  [UnknownMemberError, 'unknown-member'],
  [ManifestError, 'manifest'],
  [PairMismatchError, 'pair-mismatch'],
  [OnnxError, 'onnx'],
  [PairCheckError, 'pair-check'],
  [BundleError, 'bundle'],
  [GpuBufferLimitError, 'gpu-limit'],
  [ImageTooLargeError, 'image-too-large'],
  [ImageDecodeError, 'decode'],
  [EvalFolderError, 'eval-folder'],
  [TrainingError, 'training'],
];

export function toEngineError(e: unknown): EngineError {
  if (e instanceof EngineError) return e;
  if (!(e instanceof Error)) return new EngineError('internal', String(e));
  if (e instanceof DownloadError) return named(new EngineError(e.kind === 'cancelled' ? 'cancelled' : 'download', e.message), e);
  const code = CODES.find(([cls]) => e instanceof cls)?.[1] ?? 'internal';
  return named(new EngineError(code, e.message, e instanceof PairMismatchError ? e.mismatches : undefined), e);
}

function named(out: EngineError, from: Error): EngineError {
  out.name = from.name;
  out.stack = from.stack;
  return out;
}
