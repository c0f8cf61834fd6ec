// How long the browser tests wait, by what they wait for (a loaded 2-core machine runs Chromium on
// SwiftShader): one name per wait, not a number at each call.

/** The app's first paint and its engine's start. */
export const APP_START_MS = 60_000;
/** A UI change that follows an action at once (a point drawn, a table row, a message). */
export const UI_UPDATE_MS = 60_000;
/** A short wait for something already under way (an error shown, a cancel taking effect). */
export const SHORT_MS = 30_000;
/** A pair downloaded, checked and loaded into the engine. */
export const PAIR_LOAD_MS = 180_000;
/** Slower than a redraw: a pair from the cache, two dozen uploads classified, a member switched. */
export const SLOW_UPDATE_MS = 120_000;
/** A full frontier (11 α over every set) on a test bundle, on wasm. */
export const FULL_FRONTIER_MS = 200_000;
/** A whole test that loads, evaluates and checks against the Node engine. */
export const LONG_TEST_MS = 600_000;
/** A full frontier of the bundled pair (6 sets of 1,000 images) on a fresh profile. */
export const BUNDLED_FRONTIER_MS = 420_000;
/** A redraw from data the page already has (a legend entry shown or hidden). */
export const REDRAW_MS = 10_000;
/** A full frontier over the large test sets (tests/browser/setup/reliability.ts BIG_SETS). */
export const BIG_FRONTIER_MS = 240_000;
/** A test that loads and evaluates a few times, or waits out a fallback to the CPU. */
export const MEDIUM_TEST_MS = 300_000;
/** A test that evaluates the bundled pair in full. */
export const SLOW_TEST_MS = 420_000;
