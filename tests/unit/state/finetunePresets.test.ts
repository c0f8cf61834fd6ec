// The fine-tune labs as links and the controller's generated-world jobs: a lab link opens end to
// end on generated images with its shortcut and the bundled recipe, ready to start without a
// folder; an unknown lab says so and opens the defaults; a setting changed by hand leaves the lab.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createAppStore, initialProbe, initialState, probeFromLink } from '../../../src/state/store';
import { formatHash, parseHash } from '../../../src/state/hash';
import { hashOf } from '../../../src/state/controllers/view';
import { createLinearProbe } from '../../../src/state/controllers/linearProbe';
import { FINETUNE_PRESETS, LAB_IMAGES, MAX_WORLD_IMAGES, RECIPE, WORLD_SEED } from '../../../src/state/finetunePresets';
import { MAX_WORLD_IMAGES as CORE_MAX_WORLD_IMAGES } from '../../../src/core/world/source';
import { PIPELINE_FINETUNE } from '../../../src/core/train/finetune';
import { FakeEngine, fakePair } from '../../support/fakeEngine';

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('fine-tune labs as links', () => {
  it.each([
    ['no-shortcut', 0],
    ['shortcut-80', 0.8],
    ['shortcut-98', 0.98],
    ['shortcut-100', 1],
  ])('%s (in the hash or the query) opens end to end on generated images at shortcut %s with the recipe', (id, shortcut) => {
    for (const h of [parseHash(`#finetune=${id}`), parseHash('', `?finetune=${id}`)]) {
      const probe = initialState(h).probe;
      expect(probe).toMatchObject({ method: 'end-to-end', source: 'world', preset: id, world: { shortcut, n: LAB_IMAGES }, error: null });
      expect(probe.fineTune).toEqual(RECIPE);
    }
  });

  it("the bundled members' recipe: tools/build.py CHOSEN LP-FT at lr 2e-4 over tools/train.py FinetuneConfig (5 epochs, batch 128)", () => {
    expect(RECIPE).toEqual({ lr: 2e-4, epochs: 5, batchSize: 128, init: 'linear-probe' });
    const chosen = /^CHOSEN = "(.*)"$/m.exec(readFileSync('tools/build.py', 'utf8'))![1]!.split(',');
    expect(chosen).toContain('kind=lpft');
    expect(chosen).toContain('lr=2e-4');
    expect(RECIPE.lr).toBe(PIPELINE_FINETUNE.lr);
    expect(RECIPE.epochs).toBe(PIPELINE_FINETUNE.epochs);
    expect(RECIPE.batchSize).toBe(PIPELINE_FINETUNE.batchSize);
    expect(MAX_WORLD_IMAGES).toBe(CORE_MAX_WORLD_IMAGES);
    expect(FINETUNE_PRESETS.map((p) => p.id)).toEqual(['no-shortcut', 'shortcut-80', 'shortcut-98', 'shortcut-100']);
  });

  it('an unknown lab opens the defaults with a message naming the labs there are, and leaves the link', () => {
    const s = initialState(parseHash('#finetune=shortcut-50'));
    expect(s.probe).toEqual({ ...initialProbe, error: expect.stringContaining('No fine-tune lab is called “shortcut-50”') });
    expect(s.probe.error).toContain('no-shortcut, shortcut-80, shortcut-98, shortcut-100');
    expect(formatHash(hashOf(s))).not.toContain('finetune');
  });

  it('the link keeps the lab while its settings stand, and drops it once one is changed by hand', () => {
    const store = createAppStore(initialState(parseHash('#finetune=shortcut-100')));
    expect(formatHash(hashOf(store.getState()))).toContain('finetune=shortcut-100');
    const probe = createLinearProbe(new FakeEngine(), store);
    probe.setWorld({ shortcut: 0.5 });
    expect(store.getState().probe).toMatchObject({ preset: null, world: { shortcut: 0.5 } });
    expect(formatHash(hashOf(store.getState()))).not.toContain('finetune');
    probe.applyPreset('no-shortcut');
    expect(formatHash(hashOf(store.getState()))).toContain('finetune=no-shortcut');
    expect(probeFromLink(null)).toBe(initialProbe);
    probe.setFineTune({ init: 'zero-shot' });
    expect(store.getState().probe).toMatchObject({ preset: null, fineTune: { ...RECIPE, init: 'zero-shot' }, error: null });
  });

  it('refuses a start that is neither the zero-shot head nor the probe, keeping the old', () => {
    const store = createAppStore(initialState(parseHash('#finetune=shortcut-80')));
    const probe = createLinearProbe(new FakeEngine(), store);
    probe.setFineTune({ init: 'random' as never });
    expect(store.getState().probe).toMatchObject({ preset: 'shortcut-80', fineTune: RECIPE });
    expect(store.getState().probe.error).toContain('zero-shot or linear-probe');
  });
});

describe('the controller on generated images', () => {
  function setup(link: string) {
    const engine = new FakeEngine();
    const store = createAppStore(initialState(parseHash(link)));
    const pair = fakePair();
    store.setState({ pair, resultsKey: pair.resultsKey });
    return { engine, store, probe: createLinearProbe(engine, store) };
  }

  it('starts a lab with one click, no folder: the world, its shortcut and count, the recipe', async () => {
    const { engine, probe } = setup('#finetune=shortcut-98');
    void probe.start();
    await settle();
    expect(engine.trainings.map((t) => t.job)).toEqual([
      { id: 1, files: [], data: { kind: 'world', shortcut: 0.98, n: LAB_IMAGES, styleMix: 0, seed: WORLD_SEED }, ...RECIPE, seed: 0 },
    ]);
  });

  it('refuses a shortcut or style mix outside 0–100% and a count that is not a whole number, keeping the old', () => {
    const { store, probe } = setup('#finetune=no-shortcut');
    probe.setWorld({ shortcut: 1.5 });
    expect(store.getState().probe.error).toMatch(/0 to 100%/);
    probe.setWorld({ n: 10.5 });
    expect(store.getState().probe.error).toMatch(/whole number/);
    probe.setWorld({ styleMix: -0.1 });
    expect(store.getState().probe.error).toMatch(/style mix must be from 0 to 100%/);
    expect(store.getState().probe.world).toEqual({ shortcut: 0, n: LAB_IMAGES, styleMix: 0 });
    probe.setWorld({ styleMix: 0.5 });
    expect(store.getState().probe).toMatchObject({ error: null, world: { shortcut: 0, n: LAB_IMAGES, styleMix: 0.5 } });
  });

  it('the folder source still needs a folder', async () => {
    const { engine, probe } = setup('#finetune=no-shortcut');
    probe.setSource('folder');
    await Promise.race([probe.start(), settle()]);
    expect(engine.trainings).toHaveLength(0);
  });
});
