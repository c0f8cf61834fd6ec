import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import * as actions from './state/actions';
import { useStore, say } from './state/store';
import './ui/app.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

actions.startApp().catch((e: unknown) => say('error', `The engine could not start: ${(e as Error).message}`));

// Handles for the browser tests and for curious users in the console.
Object.assign(globalThis, { wiseft: { store: useStore, engine: actions.engineHandle, actions } });
