/**
 * Structural sharing for derived view data: `next` with every part that equals the same part of
 * `prev` replaced by `prev`'s object. Derivations build new arrays on every store update; a chart
 * series whose data keeps its identity is skipped by React.memo (recharts memoises each series on
 * its props), so an α change or one evaluation chunk re-renders only the series it changed.
 */
export function share<T>(prev: T, next: T): T {
  if (Object.is(prev, next)) return prev;
  if (Array.isArray(prev) && Array.isArray(next)) return shareArray(prev, next) as T;
  if (isPlain(prev) && isPlain(next)) return shareObject(prev, next) as T;
  return next;
}

function shareArray(prev: unknown[], next: unknown[]): unknown[] {
  const out = next.map((v, i) => (i < prev.length ? share(prev[i], v) : v));
  return out.length === prev.length && out.every((v, i) => Object.is(v, prev[i])) ? prev : out;
}

function shareObject(prev: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(next);
  // Same prototype as next (set ids are keys of prototype-free records), each key defined, never
  // assigned: a user's "__proto__" set id stays a key.
  const out = Object.create(Object.getPrototypeOf(next) as object | null) as Record<string, unknown>;
  for (const k of keys) {
    const value = Object.hasOwn(prev, k) ? share(prev[k], next[k]) : next[k];
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  const same = keys.length === Object.keys(prev).length && keys.every((k) => Object.hasOwn(prev, k) && Object.is(out[k], prev[k]));
  return same ? prev : out;
}

/** Plain records and nothing else: a class instance or a typed array is kept as `next` gave it. */
function isPlain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
