import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { ActionsProvider } from './ui/actions';
import { createApp } from './state/app';
import { indexedDbFrontierStorage } from './state/controllers/frontierCache';
import { useStore, say, openingHash } from './state/store';
import { parseHash } from './state/hash';
import { startEngineWorker } from './worker/client';
import './ui/app.css';

// Set by the browser tests before the page loads (tests/browser/setup/chromium.ts): the engine
// then also serves its debug hooks.
const forTest = (globalThis as { __WISEFT_TEST__?: boolean }).__WISEFT_TEST__ === true;
const { engine, debug } = startEngineWorker({ debug: forTest });
const app = createApp(engine, {
  pageUrl: () => location.href,
  bundledPairUrl: () => new URL('pairs/shapes/manifest.json', document.baseURI).href,
  writeHash: (hash) => {
    if (location.hash !== hash) history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
  },
  frontierStorage: indexedDbFrontierStorage(),
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ActionsProvider actions={app.actions}>
      <App />
    </ActionsProvider>
  </StrictMode>,
);

// A lab link opened in this tab changes only the hash: the page does not reload, so the lab follows it.
// (The app's own hash writes use history.replaceState, which fires no hashchange.)
window.addEventListener('hashchange', () => app.actions.followLink(parseHash(location.hash, location.search)));

app.start(openingHash).catch((e: unknown) => say('error', `The engine could not start: ${(e as Error).message}`));

// The store and the actions for the console and the benchmarks; the engine's hooks only for tests.
Object.assign(globalThis, { wiseft: { store: useStore, actions: app.actions, ...(debug ? { debug } : {}) } });
