// The app's page, typed: the store, the actions and the engine's debug hooks that main.tsx puts on
// globalThis.wiseft for a page a test opened. Callbacks run in the page (Playwright serialises
// them), so they may use their arguments and `globalThis`, nothing else from the test's scope.
import type { Page } from 'playwright-core';
import type { State } from '../../../src/state/store';
import type { AppActions } from '../../../src/state/app';
import type { EngineDebugApi } from '../../../src/worker/protocol';

export interface PageHandle {
  store: { getState(): State; setState(partial: Partial<State>): void; subscribe(fn: (s: State) => void): () => void };
  actions: AppActions;
  /** Present only for a test's page (tests/browser/setup/chromium.ts sets the flag). */
  debug: EngineDebugApi;
}

declare global {
  var wiseft: PageHandle | undefined;
}

/** `read(state, arg)` in the page; its result must be structured-cloneable. */
export async function appState<T, A = null>(page: Page, read: (s: State, arg: A) => T, arg?: A): Promise<T> {
  const state = await page.evaluateHandle(() => globalThis.wiseft!.store.getState());
  try {
    return (await state.evaluate(read as (s: State, arg: unknown) => T, arg ?? null)) as T;
  } finally {
    await state.dispose();
  }
}

/** `run(actions, arg)` in the page with the app's own actions (the instance main.tsx built). */
export async function withActions<T, A = null>(page: Page, run: (a: AppActions, arg: A) => T | Promise<T>, arg?: A): Promise<T> {
  const actions = await page.evaluateHandle(() => globalThis.wiseft!.actions);
  try {
    return (await actions.evaluate(run as (a: AppActions, arg: unknown) => T | Promise<T>, arg ?? null)) as T;
  } finally {
    await actions.dispose();
  }
}

/** `call(debug, arg)` in the page against the engine's debug hooks. */
export async function withDebug<T, A = null>(page: Page, call: (d: EngineDebugApi, arg: A) => Promise<T>, arg?: A): Promise<T> {
  const debug = await page.evaluateHandle(() => globalThis.wiseft!.debug);
  try {
    return (await debug.evaluate(call as (d: EngineDebugApi, arg: unknown) => Promise<T>, arg ?? null)) as T;
  } finally {
    await debug.dispose();
  }
}
