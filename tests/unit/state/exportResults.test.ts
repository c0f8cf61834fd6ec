// Export writes only what exists: no file until some α is complete on every image of every set.
import { describe, it, expect } from 'vitest';
import { exportResults } from '../../../src/state/imported';
import { createAppStore, initialState } from '../../../src/state/store';
import { fakePair } from '../../support/fakeEngine';

describe('exportResults', () => {
  it('says there is nothing to export, and downloads nothing, while no α is complete', () => {
    const store = createAppStore({ ...initialState(), pair: fakePair() });
    exportResults(store);
    const said = store.getState().messages.map((m) => m.text);
    expect(said).toEqual(['Nothing to export yet: no α has been evaluated on every image of every set.']);
  });
});
