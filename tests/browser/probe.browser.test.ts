// "Fine-tune it yourself": a linear probe trained in the Worker on a <class>/<image> folder of
// shapes-world photos (tools/training_folder.py, a draw of its own: the bundle ships no training
// split, and its eval sets are what the chart reports). The probe becomes a member; for it the
// weight-space frontier must equal the output-space ensemble, since logits are linear in the head.
import { describe, it, expect, beforeAll } from 'vitest';
import type { Session } from './setup/chromium';
import { trainingPage } from './setup/trainingFolder';
import { appState, withActions } from './setup/page';
import { BUNDLED_FRONTIER_MS, LONG_TEST_MS, SLOW_UPDATE_MS } from '../support/timeouts';

const IMAGES = 240;
const training = trainingPage(IMAGES);
let s: Session;
beforeAll(() => {
  s = training.session();
});

const memberIds = () => appState(s.page, (st) => st.pair!.members.map((m) => m.id));

/** Records, in the page, every held-out accuracy the panel's state shows while the job runs. */
const recordValidation = () =>
  s.page.evaluate(() => {
    const w = globalThis as unknown as { seen: { accuracy: number; n: number }[] };
    w.seen = [];
    globalThis.wiseft!.store.subscribe((st) => {
      const v = st.probe.validation;
      if (v && w.seen.at(-1) !== v) w.seen.push(v);
    });
  });

describe('a linear probe trained in the page', () => {
  it(
    'trains on the folder with live held-out accuracy, and the new member appears in the selector',
    async () => {
      const before = await memberIds();
      await s.page.setInputFiles('[data-testid="probe-folder-input"]', training.folder());
      await s.page.waitForSelector('[data-testid="probe-start"]:not([disabled])');
      await recordValidation();
      await s.page.click('[data-testid="probe-start"]');
      await s.page.waitForSelector('[data-testid="probe-result"]', { timeout: SLOW_UPDATE_MS });
      const { result, error } = await appState(s.page, (st) => st.probe);
      expect(error).toBeNull();
      // A quarter of each class held out (stratified): 240 images → 180 trained, 60 held out.
      expect(result!.trainCount + result!.validation!.n).toBe(IMAGES);
      expect(result!.validation!.n).toBeGreaterThanOrEqual(50);
      const seen = await s.page.evaluate(() => (globalThis as unknown as { seen: { n: number }[] }).seen);
      expect(seen.length).toBeGreaterThan(1);
      expect(seen.every((v) => v.n === result!.validation!.n)).toBe(true);
      expect(await memberIds()).toEqual([...before, result!.memberId]);
      const options = await s.page.locator('[data-testid="member-select"] option').allTextContents();
      expect(options.at(-1)).toContain(`Linear probe trained here on ${result!.trainCount} images`);
    },
    SLOW_UPDATE_MS,
  );

  it(
    'selected, its weight-space points equal the output-space ensemble at α = 0.5 on every set, to within float noise',
    async () => {
      const id = await appState(s.page, (st) => st.probe.result!.memberId);
      await s.page.selectOption('[data-testid="member-select"]', id);
      await s.page.waitForFunction(
        (want) => {
          const st = globalThis.wiseft!.store.getState();
          return st.pair?.member === want && st.loading === null && st.fullFrontierMs !== null && st.ensemble['0.5'] !== undefined;
        },
        id,
        { timeout: BUNDLED_FRONTIER_MS, polling: 500 },
      );
      const { points, ensemble, sets } = await appState(s.page, (st) => ({
        points: st.points['0.5']!,
        ensemble: st.ensemble['0.5']!,
        sets: st.pair!.sets.map((x) => [x.id, x.count] as const),
      }));
      for (const [set, count] of sets) {
        expect(points[set]!.n, set).toBe(count);
        expect(ensemble[set]!.n, set).toBe(count);
        // Two roundings of the same sums: at most an image whose top two logits tie within 1e-6 may differ.
        expect(Math.abs(points[set]!.correct - ensemble[set]!.correct), set).toBeLessThanOrEqual(1);
      }
    },
    LONG_TEST_MS,
  );

  it(
    'Cancel stops a job mid-training, and the members stay as they were',
    async () => {
      const before = await memberIds();
      await s.page.setInputFiles('[data-testid="probe-folder-input"]', training.folder());
      // Enough epochs that the job is surely still training when Cancel is pressed.
      void withActions(s.page, (a) => a.startProbe({ epochs: 100_000 }));
      await s.page.waitForFunction(() => globalThis.wiseft!.store.getState().probe.stage?.phase === 'epoch', undefined, {
        timeout: SLOW_UPDATE_MS,
        polling: 100,
      });
      await s.page.click('[data-testid="probe-cancel"]');
      await s.page.waitForSelector('[data-testid="probe-start"]', { timeout: SLOW_UPDATE_MS });
      const probe = await appState(s.page, (st) => st.probe);
      expect(probe.running).toBeNull();
      expect(probe.error).toBeNull();
      expect(await memberIds()).toEqual(before);
      expect(s.errors).toEqual([]);
    },
    SLOW_UPDATE_MS,
  );
});
