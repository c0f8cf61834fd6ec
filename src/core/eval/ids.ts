// Set ids key results everywhere (ResultStore, results files, the store's points, the URL hash). A
// user string used as a key in a plain object can be "__proto__" (assigning it replaces the
// object's prototype: the set vanishes) or "constructor"/"toString" (reading an absent one finds a
// function: NaN% and "complete" frontiers). So ids are checked here, wherever they come from, and
// the maps keyed by them are prototype-free (Map, or `record()` below).

/** Names every plain object answers to: never usable as ids. */
const RESERVED = new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype']);

/** Letters (any script), digits, space, and _ . - ( ) +; 1-64 characters, starting with a letter or digit. */
const SET_ID = /^[\p{L}\p{N}][\p{L}\p{N}\p{M} _.()+-]{0,63}$/u;

export const SET_ID_RULE =
  '1-64 letters, digits, spaces, "_", ".", "-", "(", ")" or "+", starting with a letter or digit, and not a name JavaScript objects reserve (like "constructor" or "__proto__")';

/** Why `id` cannot name a set, or null when it can. */
export function setIdProblem(id: string): string | null {
  if (RESERVED.has(id)) return `'${id}' is a name JavaScript objects reserve`;
  if (!SET_ID.test(id)) return `'${id.length > 80 ? `${id.slice(0, 80)}…` : id}' is not a usable set name`;
  return null;
}

export function isReservedKey(key: string): boolean {
  return RESERVED.has(key);
}

/** A prototype-free record for keys that come from users (set ids, dataset names). */
export function record<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/** rec[key] if rec has it as its own property: never an inherited constructor or toString. */
export function own<V>(rec: Readonly<Record<string, V>> | undefined | null, key: string): V | undefined {
  return rec && Object.prototype.hasOwnProperty.call(rec, key) ? rec[key] : undefined;
}

/**
 * A per-layer setting's results key: the pair's results key and the setting's α, one per layer
 * group. Here, beside the other keys, because the page looks a setting's results up by it.
 */
export function settingKey(resultsKey: string, alphas: readonly number[]): string {
  return `${resultsKey}|layers=${alphas.map((a) => String(a)).join(',')}`;
}

/**
 * A soup's results key: the pair's results key and the soup's mixing ("w=0,0.5,0.5" for weights over
 * the K members, "model-stock" for Model Stock's per-layer weights). Never an α key: a soup point
 * is not a point of the WiSE-FT line.
 */
export function soupKey(resultsKey: string, mixing: string): string {
  return `${resultsKey}|soup:${mixing}`;
}

/** "w=0,0.5,0.5": the mixing part of a weights soup's key. */
export function weightsMixing(w: readonly number[]): string {
  return `w=${w.map((x) => String(x)).join(',')}`;
}
