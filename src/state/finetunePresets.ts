// The fine-tune labs, each a link (`#finetune=shortcut-98` or `?finetune=shortcut-98`): end to end
// on images the world's renderer generates in the Worker, the shortcut strength set, the rest the
// bundled members' recipe, LP-FT (tools/build.py CHOSEN "kind=lpft,lr=2e-4" over tools/train.py
// FinetuneConfig): a linear probe of the head on the frozen zero-shot features (lr 1e-3), then every
// weight from that head (lr 2e-4); each 5 epochs of batch 128, AdamW with weight decay 0.1, 20
// warmup steps, a cosine schedule.

export type FineTunePresetId = 'no-shortcut' | 'shortcut-80' | 'shortcut-98' | 'shortcut-100';

export interface FineTunePreset {
  id: FineTunePresetId;
  label: string;
  /** P(background colour = the class's colour) in the generated reference photos. */
  shortcut: number;
}

export const FINETUNE_PRESETS: readonly FineTunePreset[] = [
  { id: 'no-shortcut', label: 'No shortcut (background independent of the class)', shortcut: 0 },
  // The bundled world's own (world.py WorldConfig.shortcut 0.8, the manifest's "80% reliable"; the
  // issue called 98% the bundled recipe, as world.py's stale EVAL_SETS text does).
  { id: 'shortcut-80', label: "80% shortcut (the bundled world's)", shortcut: 0.8 },
  { id: 'shortcut-98', label: '98% shortcut', shortcut: 0.98 },
  { id: 'shortcut-100', label: '100% shortcut (the background always gives the class away)', shortcut: 1 },
];

/** The bundled members' recipe: LP-FT, and the fine-tune's learning rate, epochs and batch (tools/build.py, tools/train.py). */
export const RECIPE = { lr: 2e-4, epochs: 5, batchSize: 128, init: 'linear-probe' } as const;

/**
 * Images a lab generates: 2,000 at 5 epochs is 10,000 image-steps, a couple of minutes on this
 * page's wasm runtime. The pipeline trains on 20,000 (set the count to 20,000 and the seed's rows
 * are tools/build.py's own training images: about ten times as long).
 */
export const LAB_IMAGES = 2000;

/** core/world/source.ts MAX_WORLD_IMAGES, copied so the page bundle does not pull the renderer in (a test keeps them equal). */
export const MAX_WORLD_IMAGES = 200_000;

/** The world's seed a lab draws from: the shipped pipeline's (tools/seeds.py PIPELINE_SEEDS[0]). */
export const WORLD_SEED = 0;

export function findPreset(id: string | null): FineTunePreset | null {
  return FINETUNE_PRESETS.find((p) => p.id === id) ?? null;
}

/** The message for a `finetune=` the page does not know, listing the ones it does. */
export function unknownPresetMessage(name: string): string {
  return `No fine-tune lab is called “${name}”; the labs are ${FINETUNE_PRESETS.map((p) => p.id).join(', ')}. Opened the default settings.`;
}
