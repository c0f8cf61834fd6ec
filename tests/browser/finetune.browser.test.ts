// "Fine-tune it yourself → end-to-end": every weight of the bundled image tower trained in the
// Worker on a small <class>/<image> folder of shapes-world photos (tools/training_folder.py), a
// short schedule. The job yields between steps, so the slider's α is evaluated while it trains; a
// cancelled job adds no member; a finished one becomes an end-to-end member with its own frontier.
// LP-FT (the labs' start) runs its feature pass and probe before the steps, each shown.
import { describe, it, expect, inject, beforeAll } from 'vitest';
import { openPage, type Session } from './setup/chromium';
import { trainingPage } from './setup/trainingFolder';
import { appState, withActions } from './setup/page';
import { LONG_TEST_MS, PAIR_LOAD_MS, SLOW_UPDATE_MS } from '../support/timeouts';

const IMAGES = 48;
const training = trainingPage(IMAGES);
let s: Session;
beforeAll(() => {
  s = training.session();
});

const memberIds = () => appState(s.page, (st) => st.pair!.members.map((m) => m.id));

/** The folder dropped and End-to-end chosen, with `epochs` over batches of 16. */
async function chooseEndToEnd(epochs: number): Promise<void> {
  await s.page.setInputFiles('[data-testid="probe-folder-input"]', training.folder());
  await s.page.selectOption('[data-testid="probe-method"]', 'end-to-end');
  await s.page.fill('[data-testid="finetune-epochs"]', String(epochs));
  await s.page.fill('[data-testid="finetune-batch"]', '16');
  expect(await appState(s.page, (st) => st.probe.fineTune)).toMatchObject({ epochs, batchSize: 16 });
}

/** End to end on generated world images, one epoch of 64 images in batches of 32; `shortcut` in percent, as typed. */
async function chooseWorldJob(styleMix: string, shortcut?: string): Promise<void> {
  await s.page.selectOption('[data-testid="probe-method"]', 'end-to-end');
  await s.page.selectOption('[data-testid="finetune-source"]', 'world');
  if (shortcut !== undefined) await s.page.fill('[data-testid="finetune-shortcut"]', shortcut);
  await s.page.fill('[data-testid="finetune-style-mix"]', styleMix);
  await s.page.fill('[data-testid="finetune-images"]', '64');
  await s.page.fill('[data-testid="finetune-epochs"]', '1');
  await s.page.fill('[data-testid="finetune-batch"]', '32');
}

describe('end-to-end fine-tuning in the page', () => {
  it(
    'while a job trains, an α moved on the slider is evaluated; Cancel then stops it and the members stay as they were',
    async () => {
      const before = await memberIds();
      await chooseEndToEnd(1000);
      await s.page.click('[data-testid="probe-start"]');
      await s.page.waitForFunction(() => globalThis.wiseft!.store.getState().probe.stage?.phase === 'step', undefined, {
        timeout: SLOW_UPDATE_MS,
        polling: 100,
      });
      await withActions(s.page, (a) => a.setAlpha(0.37));
      // The point must arrive while the job still runs: a Worker blocked by training would deliver it only after.
      await s.page.waitForFunction(
        () => {
          const st = globalThis.wiseft!.store.getState();
          return (st.points['0.37']?.reference?.n ?? 0) > 0 && st.probe.running !== null && st.probe.stage?.phase === 'step';
        },
        undefined,
        { timeout: SLOW_UPDATE_MS, polling: 100 },
      );
      expect(await s.page.textContent('[data-testid="alpha-value"]')).toBe('0.37');
      await s.page.click('[data-testid="probe-cancel"]');
      await s.page.waitForSelector('[data-testid="probe-start"]', { timeout: SLOW_UPDATE_MS });
      const probe = await appState(s.page, (st) => st.probe);
      expect(probe.running).toBeNull();
      expect(probe.error).toBeNull();
      expect(probe.result).toBeNull();
      expect(await memberIds()).toEqual(before);
      expect(s.errors).toEqual([]);
    },
    LONG_TEST_MS,
  );

  it(
    'one epoch becomes an end-to-end member, with a live loss at every step and its held-out accuracy; selected, its own frontier point appears',
    async () => {
      const before = await memberIds();
      await chooseEndToEnd(1);
      await s.page.evaluate(() => {
        const w = globalThis as unknown as { losses: number[] };
        w.losses = [];
        globalThis.wiseft!.store.subscribe((st) => {
          // Only this job's steps: the cancelled job's last loss stays in the state until Start.
          if (st.probe.stage?.phase === 'step' && st.probe.loss !== null && w.losses.at(-1) !== st.probe.loss) w.losses.push(st.probe.loss);
        });
      });
      await s.page.click('[data-testid="probe-start"]');
      await s.page.waitForSelector('[data-testid="probe-result"]', { timeout: SLOW_UPDATE_MS });
      const { result, error } = await appState(s.page, (st) => st.probe);
      expect(error).toBeNull();
      // The probe's split: a quarter of each class held out.
      expect(result!.trainCount + result!.validation!.n).toBe(IMAGES);
      const losses = await s.page.evaluate(() => (globalThis as unknown as { losses: number[] }).losses);
      expect(losses.length).toBe(Math.floor(result!.trainCount / 16));
      expect(losses.every((l) => Number.isFinite(l) && l > 0)).toBe(true);
      expect(await memberIds()).toEqual([...before, result!.memberId]);
      const member = await appState(s.page, (st, id) => st.pair!.members.find((m) => m.id === id)!, result!.memberId);
      expect(member.kind).toBe('end-to-end');
      const options = await s.page.locator('[data-testid="member-select"] option').allTextContents();
      expect(options.at(-1)).toContain(`Fine-tuned end to end here on ${result!.trainCount} images, 1 epoch`);

      const oldKey = await appState(s.page, (st) => st.resultsKey);
      await s.page.selectOption('[data-testid="member-select"]', result!.memberId);
      // Under the new member's results key: not a point left from the member blended before.
      await s.page.waitForFunction(
        ([want, old]) => {
          const st = globalThis.wiseft!.store.getState();
          const fresh = st.pair?.member === want && st.loading === null && st.resultsKey !== old;
          return fresh && (st.points['0.37']?.reference?.n ?? 0) > 0;
        },
        [result!.memberId, oldKey] as const,
        { timeout: SLOW_UPDATE_MS, polling: 250 },
      );
      expect(s.errors).toEqual([]);
    },
    LONG_TEST_MS,
  );

  it(
    "on generated world images (no folder): the shortcut and style-mix sliders and count set, one epoch becomes a member named by its shortcut and mix, its held-out n the world's own draw",
    async () => {
      const before = await memberIds();
      await chooseWorldJob('25', '100');
      expect(await appState(s.page, (st) => [st.probe.world, st.probe.fineTune.batchSize])).toEqual([
        { shortcut: 1, n: 64, styleMix: 0.25 },
        32,
      ]);
      await s.page.click('[data-testid="probe-start"]');
      await s.page.waitForSelector('[data-testid="probe-result"]', { timeout: SLOW_UPDATE_MS });
      const { result, error } = await appState(s.page, (st) => st.probe);
      expect(error).toBeNull();
      // 64 generated training images; held out: core/world/source.ts worldHeldOutCount(64), at least 100.
      expect(result!.trainCount).toBe(64);
      expect(result!.validation!.n).toBe(100);
      expect(await s.page.textContent('[data-testid="probe-result"]')).toContain('(n = 100)');
      expect(await memberIds()).toEqual([...before, result!.memberId]);
      expect(result!.memberName).toBe('Fine-tuned end to end here on 64 generated images (100% shortcut, 25% styled), 1 epoch, seed 0');
      expect(s.errors).toEqual([]);
    },
    LONG_TEST_MS,
  );

  it(
    "LP-FT on generated images (the labs' start): the held-out render, the feature pass, the probe's epochs, then every weight's steps, each shown as it runs with every held-out pass between; the member says it started from a probe",
    async () => {
      await chooseWorldJob('0');
      await s.page.selectOption('[data-testid="finetune-init"]', 'linear-probe');
      expect(await appState(s.page, (st) => st.probe.fineTune.init)).toBe('linear-probe');
      await s.page.evaluate(() => {
        const w = globalThis as unknown as { phases: string[] };
        w.phases = [];
        globalThis.wiseft!.store.subscribe((st) => {
          const phase = st.probe.stage?.phase;
          if (phase && w.phases.at(-1) !== phase) w.phases.push(phase);
        });
      });
      await s.page.click('[data-testid="probe-start"]');
      await s.page.waitForSelector('[data-testid="probe-result"]', { timeout: SLOW_UPDATE_MS });
      const { result, error } = await appState(s.page, (st) => st.probe);
      expect(error).toBeNull();
      // Every pass over the held-out images is shown too: their features before the probe and the tower's accuracy on them at the
      // epoch's end (two steps of 32: after the first step, before the second's event); so is the training images' render before
      // their feature pass. No accuracy pass before the first step: the "before" is the zero-shot head's, which the probe measured.
      expect(await s.page.evaluate(() => (globalThis as unknown as { phases: string[] }).phases)).toEqual([
        'held-out',
        'training-render',
        'features',
        'held-out-features',
        'epoch',
        'step',
        'held-out-accuracy',
        'step',
      ]);
      expect(result!.trainCount).toBe(64);
      const member = await appState(s.page, (st, id) => st.pair!.members.find((m) => m.id === id)!, result!.memberId);
      expect(member.kind).toBe('end-to-end');
      expect(member.description).toContain('from a head first fitted on the frozen zero-shot features (LP-FT');
      expect(s.errors).toEqual([]);
    },
    LONG_TEST_MS,
  );

  it(
    "a lab link (#finetune=shortcut-98) opens the panel on end to end, generated images at 98% and the bundled members' recipe (LP-FT), ready to start, and keeps the lab in the link",
    async () => {
      const lab = await openPage(`${inject('baseUrl')}#backend=wasm&finetune=shortcut-98`);
      try {
        await lab.page.waitForSelector('[data-testid="probe-panel"]', { timeout: PAIR_LOAD_MS });
        expect(await lab.page.inputValue('[data-testid="probe-method"]')).toBe('end-to-end');
        expect(await lab.page.inputValue('[data-testid="finetune-source"]')).toBe('world');
        expect(await lab.page.inputValue('[data-testid="finetune-preset"]')).toBe('shortcut-98');
        expect(await lab.page.inputValue('[data-testid="finetune-shortcut"]')).toBe('98');
        expect(await lab.page.inputValue('[data-testid="finetune-init"]')).toBe('linear-probe');
        const fields = ['finetune-images', 'finetune-epochs', 'finetune-lr', 'finetune-batch'];
        const values = await Promise.all(fields.map((id) => lab.page.inputValue(`[data-testid="${id}"]`)));
        expect(values.map(Number)).toEqual([2000, 5, 2e-4, 128]);
        expect(await lab.page.isEnabled('[data-testid="probe-start"]')).toBe(true);
        expect(await lab.page.evaluate(() => location.hash)).toContain('finetune=shortcut-98');
        expect(lab.errors).toEqual([]);
      } finally {
        await lab.close();
      }
    },
    LONG_TEST_MS,
  );
});
