// How an EngineError crosses comlink. Comlink's own handler keeps an Error's message and name and
// drops every other field, so the page could only branch on message text; this one carries the code
// (and any details) and rebuilds an EngineError on the page. Both sides register it.
import * as Comlink from 'comlink';
import { EngineError, type EngineErrorCode } from './protocol';

interface SerializedError {
  code: EngineErrorCode;
  message: string;
  name: string;
  stack: string | undefined;
  details: unknown;
}

type Thrown = { value: unknown };
type Serialized = { isError: true; value: SerializedError } | { isError: false; value: unknown };

const original = Comlink.transferHandlers.get('throw')!;

const engineErrors: Comlink.TransferHandler<Thrown, Serialized> = {
  canHandle: (v): v is Thrown => original.canHandle(v),
  serialize({ value }) {
    if (!(value instanceof Error)) return [{ isError: false, value }, []];
    const code = value instanceof EngineError ? value.code : 'internal';
    const details = value instanceof EngineError && isCloneable(value.details) ? value.details : undefined;
    return [{ isError: true, value: { code, message: value.message, name: value.name, stack: value.stack, details } }, []];
  },
  deserialize(s) {
    if (!s.isError) throw s.value;
    const e = new EngineError(s.value.code, s.value.message, s.value.details);
    // The name the engine gave it (BundleError, PairMismatchError…) stays what a console shows.
    e.name = s.value.name;
    e.stack = s.value.stack;
    throw e;
  },
};

/** Must run on both sides before the first call. */
export function registerEngineErrors(): void {
  Comlink.transferHandlers.set('throw', engineErrors as Comlink.TransferHandler<unknown, unknown>);
}

function isCloneable(v: unknown): boolean {
  try {
    structuredClone(v);
    return true;
  } catch {
    return false;
  }
}
