// "Fine-tune it yourself", Pause and the downloads, in Chromium with the real Worker: a paused
// end-to-end job makes no progress while the slider's α is still evaluated, resumes, and a cancel
// while paused leaves the members as they were; of two trained probes the one picked downloads as
// its ONNX and as the bundle's .zip, and that zip, dropped on the page, loads with the member
// selectable and giving the in-memory member's logits.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import type { Session } from './setup/chromium';
import { appState, withActions, withDebug } from './setup/page';
import { trainingPage } from './setup/trainingFolder';
import { LONG_TEST_MS, PAIR_LOAD_MS, SLOW_UPDATE_MS } from '../support/timeouts';

const training = trainingPage(48);
let s: Session;
beforeAll(() => {
  s = training.session();
});

const memberIds = () => appState(s.page, (st) => st.pair!.members.map((m) => m.id));
const step = () => appState(s.page, (st) => st.probe.stage?.done ?? 0);
const waitFor = (f: () => boolean) => s.page.waitForFunction(f, undefined, { timeout: SLOW_UPDATE_MS, polling: 100 });

/** Clicks `testId` and saves what it downloads; the file's path. */
async function download(testId: string, name: string): Promise<string> {
  const [d] = await Promise.all([s.page.waitForEvent('download', { timeout: SLOW_UPDATE_MS }), s.page.click(`[data-testid="${testId}"]`)]);
  const path = join(training.scratch(), name);
  await d.saveAs(path);
  return path;
}

/** Drops the file at `path` on the page, as a user drags it from the desktop. */
async function dropFile(path: string, name: string): Promise<void> {
  await s.page.evaluate(
    ({ b64, name }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0))], name));
      document
        .querySelector('[data-testid="app"]')!
        .dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { b64: readFileSync(path).toString('base64'), name },
  );
}

/** Selects member `id` and waits until it is the one loaded. */
async function selectMember(id: string): Promise<void> {
  await s.page.selectOption('[data-testid="member-select"]', id);
  await s.page
    .waitForFunction(
      (want) => {
        const st = globalThis.wiseft!.store.getState();
        return st.loading === null && st.pair?.member === want;
      },
      id,
      { timeout: SLOW_UPDATE_MS, polling: 250 },
    )
    .catch(async (e: unknown) => {
      // This wait timed out in 3 of 9 runs when dropped files were read through Blob.stream(), whose
      // member load could stall (source.ts blobChunks reads slices now): should it time out again, say
      // what the page held (and how long ago it loaded, to tell a dev-server reload from a stalled load).
      console.log('member not selected:', JSON.stringify(await memberState()));
      throw e;
    });
}

/** What the page holds when a member selection does not arrive. */
function memberState() {
  return s.page.evaluate(() => {
    const st = globalThis.wiseft!.store.getState();
    const since = Math.round(performance.now());
    return { loading: st.loading?.label ?? null, member: st.pair?.member, pairError: st.pairError, msSincePageLoad: since };
  });
}

/** The reference set's logits at α = 1 with the member selected now, run afresh in the Worker. */
const referenceLogits = () => withDebug(s.page, (d) => d.evalLogits(1, 'reference')).then((r) => Array.from(r.logits));

describe('Pause, and the downloads of a member trained in the page', () => {
  it(
    'a paused end-to-end job makes no step while an α on the slider is evaluated; Resume goes on; Cancel while paused adds nothing',
    async () => {
      const before = await memberIds();
      await s.page.setInputFiles('[data-testid="probe-folder-input"]', training.folder());
      await s.page.selectOption('[data-testid="probe-method"]', 'end-to-end');
      await s.page.fill('[data-testid="finetune-epochs"]', '1000');
      await s.page.fill('[data-testid="finetune-batch"]', '16');
      await s.page.click('[data-testid="probe-start"]');
      await waitFor(() => globalThis.wiseft!.store.getState().probe.stage?.phase === 'step');
      await s.page.click('[data-testid="probe-pause"]');
      expect(await s.page.textContent('[data-testid="probe-pause"]')).toBe('Resume');
      // At most the step under way when Pause came finishes.
      await s.page.waitForTimeout(2000);
      const held = await step();
      await withActions(s.page, (a) => a.setAlpha(0.37));
      await waitFor(() => (globalThis.wiseft!.store.getState().points['0.37']?.reference?.n ?? 0) > 0);
      await s.page.waitForTimeout(2000);
      expect(await step()).toBe(held);
      expect(await s.page.textContent('[data-testid="probe-status"]')).toContain('(paused)');
      await s.page.click('[data-testid="probe-pause"]');
      await s.page.waitForFunction((h) => (globalThis.wiseft!.store.getState().probe.stage?.done ?? 0) > h, held, {
        timeout: SLOW_UPDATE_MS,
        polling: 100,
      });
      await s.page.click('[data-testid="probe-pause"]');
      await s.page.click('[data-testid="probe-cancel"]');
      await s.page.waitForSelector('[data-testid="probe-start"]', { timeout: SLOW_UPDATE_MS });
      const probe = await appState(s.page, (st) => st.probe);
      expect(probe).toMatchObject({ running: null, paused: false, error: null, result: null });
      expect(await memberIds()).toEqual(before);
      expect(s.errors).toEqual([]);
    },
    LONG_TEST_MS,
  );

  it(
    'of two probes the one picked downloads as its ONNX and as the bundle .zip; the zip dropped on the page loads with it, giving the same logits',
    async () => {
      await s.page.setInputFiles('[data-testid="probe-folder-input"]', training.folder());
      await s.page.selectOption('[data-testid="probe-method"]', 'linear-probe');
      await withActions(s.page, (a) => a.startProbe({ epochs: 10 }));
      await s.page.waitForSelector('[data-testid="trained-export-bundle"]', { timeout: SLOW_UPDATE_MS });
      const { memberId } = (await appState(s.page, (st) => st.probe.result))!;
      // A second probe: the picker lists both, the latest first and chosen; the first is picked.
      await withActions(s.page, (a) => a.startProbe({ epochs: 3, seed: 1 }));
      await waitFor(() => {
        const st = globalThis.wiseft!.store.getState();
        return st.probe.running === null && (st.pair?.trainedHere.length ?? 0) === 2;
      });
      const second = (await appState(s.page, (st) => st.probe.result))!.memberId;
      const options = () =>
        Array.from(document.querySelectorAll<HTMLOptionElement>('[data-testid="trained-export-member"] option'), (o) => o.value);
      expect(await s.page.evaluate(options)).toEqual([second, memberId]);
      expect(await s.page.inputValue('[data-testid="trained-export-member"]')).toBe(second);
      await s.page.selectOption('[data-testid="trained-export-member"]', memberId);
      const onnx = readFileSync(await download('trained-export-onnx', 'member.onnx'));
      const zip = await download('trained-export-bundle', 'bundle.zip');
      const entries = unzipSync(readFileSync(zip));
      const manifest = JSON.parse(new TextDecoder().decode(entries['manifest.json']));
      const added = manifest.models.members.at(-1);
      expect(added).toMatchObject({ id: memberId, kind: 'linear-classifier', model: { bytes: onnx.length } });
      expect(Buffer.from(entries[added.model.path]!).equals(onnx)).toBe(true);

      await selectMember(memberId);
      const inMemory = await referenceLogits();
      const bundled = await appState(s.page, (st) => st.pair!.bundleHash);

      await dropFile(zip, 'shapes-with-probe.zip');
      await s.page.waitForFunction(
        (old) => {
          const st = globalThis.wiseft!.store.getState();
          return st.loading === null && st.pair !== null && st.pair.bundleHash !== old;
        },
        bundled,
        { timeout: PAIR_LOAD_MS, polling: 250 },
      );
      expect(await appState(s.page, (st) => st.pairError)).toBeNull();
      expect(await memberIds()).toEqual(manifest.models.members.map((m: { id: string }) => m.id));
      await selectMember(memberId);
      expect(await referenceLogits()).toEqual(inMemory);
      expect(s.errors).toEqual([]);
    },
    LONG_TEST_MS,
  );
});
