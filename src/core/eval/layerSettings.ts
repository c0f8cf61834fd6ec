// Per-layer α settings, evaluated like one frontier point each: one α per layer group, results
// kept per setting under a key that names the pair's results key and the setting, so a per-layer
// number is never stored, sent or shown as a uniform-α one.
import { FrontierEvaluator } from './evaluator';
import { CHUNK, type SetAccuracy, type WorkItem } from './frontier';
import { settingKey } from './ids';
import type { CalibrationStats } from './calibrationReport';

/**
 * The α slot a setting's results occupy in its own evaluator. Any α works as a label; an interior
 * one keeps the evaluator from storing endpoint logits, which a setting has no use for.
 */
export const SETTING_SLOT = 0.5;

export interface LayerUpdate {
  resultsKey: string;
  /** The setting's own key (settingKey): what its results are stored and shown under. */
  settingKey: string;
  alphas: number[];
  point: Record<string, SetAccuracy>;
  progress: { done: number; total: number; chunkSize: number };
}

interface Planned {
  alphas: readonly number[];
  key: string;
  evaluator: FrontierEvaluator;
  item: WorkItem;
}

/** The settings' evaluators, made on first use and kept while the pair and its eval sets stay. */
export class LayerSettings {
  private readonly evaluators = new Map<string, FrontierEvaluator>();

  constructor(
    private readonly resultsKey: string,
    private readonly make: (alphas: readonly number[]) => FrontierEvaluator,
  ) {}

  private evaluatorFor(alphas: readonly number[]): { key: string; evaluator: FrontierEvaluator } {
    const key = settingKey(this.resultsKey, alphas);
    let evaluator = this.evaluators.get(key);
    if (!evaluator) this.evaluators.set(key, (evaluator = this.make(alphas)));
    return { key, evaluator };
  }

  /**
   * The work left to bring each setting to `imagesPerSet` images per set: every setting's first
   * chunk before any second one, so a strip of settings fills evenly.
   */
  plan(settings: readonly (readonly number[])[], imagesPerSet: number): Planned[] {
    const items: (Planned & { order: number })[] = [];
    settings.forEach((alphas, order) => {
      const { key, evaluator } = this.evaluatorFor(alphas);
      for (const item of evaluator.plan([SETTING_SLOT], null)) {
        if (item.start < imagesPerSet) items.push({ alphas, key, evaluator, item, order });
      }
    });
    return items.sort((a, b) => a.item.chunk - b.item.chunk || a.order - b.order);
  }

  /** A setting's ECE and NLL per set over the images evaluated so far; {} before any. */
  calibrationOf(alphas: readonly number[]): Record<string, CalibrationStats> {
    return this.evaluators.get(settingKey(this.resultsKey, alphas))?.calibrationPoint(SETTING_SLOT) ?? {};
  }

  /**
   * Brings every setting to `imagesPerSet` images per set. With `firstEstimate`, each setting whose
   * first chunks are still to run gets a first estimate before any chunk: PREVIEW_IMAGES images of
   * every set (FrontierEvaluator.preview), one update, whose logits become the start of those
   * chunks, so no image runs twice. The chunks' updates follow, as without it.
   */
  async run(
    settings: readonly (readonly number[])[],
    imagesPerSet: number,
    isStale: () => boolean,
    onUpdate: (u: LayerUpdate) => void,
    firstEstimate = false,
  ): Promise<'done' | 'superseded'> {
    const plan = this.plan(settings, imagesPerSet);
    let done = 0;
    const update = (key: string, alphas: readonly number[], point: Record<string, SetAccuracy>) =>
      onUpdate({
        resultsKey: this.resultsKey,
        settingKey: key,
        alphas: [...alphas],
        point,
        progress: { done, total: plan.length, chunkSize: CHUNK },
      });
    if (firstEstimate && (await this.previews(plan, isStale, update)) === 'superseded') return 'superseded';
    for (const { alphas, key, evaluator, item } of plan) {
      const outcome = await evaluator.run([item], isStale, (_, point) => {
        done++;
        update(key, alphas, point);
      });
      if (outcome === 'superseded') return outcome;
    }
    return 'done';
  }

  /** Each planned setting's first estimate, in the plan's order of settings (the current one first). */
  private async previews(
    plan: readonly Planned[],
    isStale: () => boolean,
    update: (key: string, alphas: readonly number[], point: Record<string, SetAccuracy>) => void,
  ): Promise<'done' | 'superseded'> {
    const first = new Map<string, Planned>();
    for (const p of plan) if (!first.has(p.key)) first.set(p.key, p);
    for (const { key, alphas, evaluator } of first.values()) {
      const items = plan.filter((p) => p.key === key).map((p) => p.item);
      await evaluator.preview(SETTING_SLOT, items, isStale, (point) => update(key, alphas, point));
      if (isStale()) return 'superseded';
    }
    return 'done';
  }
}
