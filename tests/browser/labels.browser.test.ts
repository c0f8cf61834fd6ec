// Custom labels on the bundled pair, in the page: a link's labels are read from the hash, a word
// its tokenizer does not know is named before anything runs, "Use anyway" runs them, and the
// labels stay in the URL; the vocabulary is listed.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { openPage, type Session } from './setup/chromium';
import { appState } from './setup/page';
import { PAIR_LOAD_MS, UI_UPDATE_MS, MEDIUM_TEST_MS } from '../support/timeouts';

let s: Session;
const hashLabels = () => s.page.evaluate(() => new URLSearchParams(location.hash.slice(1)).get('labels'));

beforeAll(async () => {
  s = await openPage(`${inject('baseUrl')}#backend=wasm&labels=${encodeURIComponent('red star,blue zebra,moon')}`);
});
afterAll(async () => s?.close());

describe('custom labels', () => {
  it(
    "a link's labels with an unknown word are warned of, not run, until confirmed; they stay in the URL",
    async () => {
      // The first page of a fresh Vite server compiles the app on demand: on a loaded 2-core machine, over a minute.
      await s.page.waitForSelector('[data-testid="backend"]', { timeout: PAIR_LOAD_MS });
      const warning = s.page.locator('[data-testid="label-warning"]');
      await warning.waitFor({ timeout: PAIR_LOAD_MS });
      expect(await warning.textContent()).toMatch(/does not know “zebra”\. /);
      expect(await appState(s.page, (st) => st.customLabels)).toBeNull();
      expect(await s.page.inputValue('[data-testid="custom-labels"]')).toBe('red star, blue zebra, moon');
      expect(await hashLabels()).toBe('red star,blue zebra,moon');
      await s.page.locator('[data-testid="vocabulary"] summary').click();
      const vocabulary = (await s.page.textContent('[data-testid="vocabulary"]'))!;
      expect(vocabulary).toMatch(/The words the text encoder knows \(\d+\)/);
      expect(vocabulary).toContain('pentagram');
      expect(vocabulary).not.toContain('zebra');

      await warning.getByRole('button', { name: 'Use anyway' }).click();
      await s.page.locator('[data-testid="custom-labels-in-use"]', { hasText: '3 labels' }).waitFor({ timeout: UI_UPDATE_MS });
      expect(await warning.count()).toBe(0);
      expect(await hashLabels()).toBe('red star,blue zebra,moon');

      // Known words only: run at once.
      await s.page.fill('[data-testid="custom-labels"]', 'star, heart');
      await s.page.press('[data-testid="custom-labels"]', 'Enter');
      await s.page.locator('[data-testid="custom-labels-in-use"]', { hasText: '2 labels' }).waitFor({ timeout: UI_UPDATE_MS });
      expect(await warning.count()).toBe(0);
      expect(await hashLabels()).toBe('star,heart');
      // The keyboard stays where it was: the field is not rebuilt under it.
      expect(await s.page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('custom-labels');
      expect(s.errors).toEqual([]);
    },
    MEDIUM_TEST_MS,
  );
});
