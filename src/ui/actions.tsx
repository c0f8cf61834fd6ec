// The app's actions, handed to components by context: main.tsx provides the ones built around the
// engine Worker, a test can provide its own.
import { createContext, useContext, type ReactNode } from 'react';
import type { AppActions } from '../state/app';

const ActionsContext = createContext<AppActions | null>(null);

export function ActionsProvider({ actions, children }: { actions: AppActions; children: ReactNode }) {
  return <ActionsContext.Provider value={actions}>{children}</ActionsContext.Provider>;
}

export function useActions(): AppActions {
  const a = useContext(ActionsContext);
  if (!a) throw new Error('useActions() outside <ActionsProvider>');
  return a;
}
