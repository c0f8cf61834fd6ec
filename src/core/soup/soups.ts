// Soups over the bundle's members, evaluated like per-layer settings: one evaluator per mixing,
// results under the soup's own key (soupKey), so no soup number is stored or shown as an α one.
import { FrontierEvaluator } from '../eval/evaluator';
import type { CalibrationStats } from '../eval/calibrationReport';
import { CHUNK, type SetAccuracy } from '../eval/frontier';
import { soupKey, weightsMixing } from '../eval/ids';
import type { BlendCoefficients } from '../blend/coefficients';
import { greedySoup, soupWeights, type GreedyStep } from './greedy';
import { modelStock, type StockGroup, type StockLayer } from './modelStock';

/**
 * What to evaluate: explicit weights over the K members (zero-shot first; a triangle cell), the
 * uniform soup of the fine-tuned members, the greedy soup, or Model Stock over the fine-tuned members.
 */
export type SoupRecipe =
  { kind: 'weights'; weights: readonly number[] } | { kind: 'uniform' } | { kind: 'greedy' } | { kind: 'model-stock' };

/** The α slot a soup occupies in its own evaluator: a label (see layerSettings' SETTING_SLOT). */
const SOUP_SLOT = 0.5;

export type SoupUpdate =
  | {
      kind: 'soup-chunk';
      resultsKey: string;
      /** soupKey(resultsKey, mixing): what this soup's results are stored and shown under. */
      soupKey: string;
      recipe: SoupRecipe['kind'];
      /** The weights over the K members; null for Model Stock, whose weights differ per layer. */
      weights: number[] | null;
      point: Record<string, SetAccuracy>;
      progress: { done: number; chunkSize: number };
    }
  | { kind: 'greedy-step'; resultsKey: string; step: GreedyStep; soupKey: string }
  | { kind: 'model-stock'; resultsKey: string; layers: StockLayer[]; soupKey: string };

/** What the soups need of the pair: a K-member engine's evaluator maker, member weights and groups. */
export interface SoupSource {
  members: number;
  referenceSet: string;
  groups: readonly StockGroup[];
  /** The members Model Stock averages (1…K−1): the paper stocks end-to-end fine-tuned models. */
  stockMembers: readonly number[];
  /** An evaluator whose every α runs the blend `c` (the α is a label). */
  make(c: BlendCoefficients): FrontierEvaluator;
  /** Member k's blended weights by tensor name (0 the zero-shot model). */
  weightsOf(k: number): Promise<(name: string) => Float32Array>;
}

export function referenceAccuracy(point: Record<string, SetAccuracy>, reference: string): number {
  const s = point[reference];
  return s && s.n > 0 ? s.correct / s.n : 0;
}

type Point = Record<string, SetAccuracy>;
type OnUpdate = (u: SoupUpdate) => void;

/** The soups' evaluators, made on first use and kept while the pair and its eval sets stay. */
export class SoupSettings {
  private readonly evaluators = new Map<string, FrontierEvaluator>();
  private stock: ReturnType<typeof modelStock> | null = null;

  constructor(
    readonly resultsKey: string,
    private readonly source: SoupSource,
  ) {}

  /** A soup's ECE and NLL per set (by its soupKey) over the images evaluated so far; {} before any. */
  calibrationOf(key: string): Record<string, CalibrationStats> {
    return this.evaluators.get(key)?.calibrationPoint(SOUP_SLOT) ?? {};
  }

  /** Brings one mixing to `imagesPerSet` images per set; its point, or null when superseded. */
  private async evaluate(
    mixing: string,
    c: BlendCoefficients,
    recipe: SoupRecipe['kind'],
    job: { imagesPerSet: number; isStale: () => boolean; onUpdate: OnUpdate; done: number },
  ): Promise<Point | null> {
    const key = soupKey(this.resultsKey, mixing);
    let evaluator = this.evaluators.get(key);
    if (!evaluator) this.evaluators.set(key, (evaluator = this.source.make(c)));
    const items = evaluator.plan([SOUP_SLOT], null).filter((i) => i.start < job.imagesPerSet);
    const weights = c.perTensor ? null : [...c.weights!];
    const emit = (point: Point) =>
      job.onUpdate({
        kind: 'soup-chunk',
        resultsKey: this.resultsKey,
        soupKey: key,
        recipe,
        weights,
        point,
        progress: { done: ++job.done, chunkSize: CHUNK },
      });
    if (items.length === 0) emit(evaluator.results.point(SOUP_SLOT));
    const outcome = await evaluator.run(items, job.isStale, (_, point) => emit(point));
    return outcome === 'superseded' ? null : evaluator.results.point(SOUP_SLOT);
  }

  private weightsSoup(w: readonly number[], recipe: SoupRecipe['kind'], job: Parameters<SoupSettings['evaluate']>[3]) {
    return this.evaluate(weightsMixing(w), { weights: w }, recipe, job);
  }

  /** Model Stock's coefficients, computed once from the members' weights. */
  private async stockOf(): Promise<ReturnType<typeof modelStock>> {
    if (!this.stock) {
      const k = this.source.members;
      const all = await Promise.all(Array.from({ length: k }, (_, m) => this.source.weightsOf(m)));
      this.stock = modelStock(this.source.groups, (m) => all[m]!, this.source.stockMembers, k);
    }
    return this.stock;
  }

  /** The greedy soup: each member alone, then the candidates, each step reported as it is decided. */
  private async greedy(job: Parameters<SoupSettings['evaluate']>[3]): Promise<boolean> {
    const ft = this.source.members - 1;
    const alone: number[] = [];
    for (let m = 0; m < ft; m++) {
      const point = await this.weightsSoup(soupWeights([m], ft), 'weights', job);
      if (!point) return false;
      alone.push(referenceAccuracy(point, this.source.referenceSet));
    }
    let stale = false;
    await greedySoup(
      alone,
      async (soup) => {
        const point = stale ? null : await this.weightsSoup(soupWeights(soup, ft), 'greedy', job);
        if (!point) stale = true;
        return point ? referenceAccuracy(point, this.source.referenceSet) : -Infinity;
      },
      (step) => {
        const key = soupKey(this.resultsKey, weightsMixing(soupWeights(step.soup, ft)));
        if (!stale) job.onUpdate({ kind: 'greedy-step', resultsKey: this.resultsKey, step, soupKey: key });
      },
    );
    return !stale;
  }

  /** Runs the recipes in order; 'superseded' as soon as `isStale` says so. */
  async run(
    recipes: readonly SoupRecipe[],
    imagesPerSet: number,
    isStale: () => boolean,
    onUpdate: OnUpdate,
  ): Promise<'done' | 'superseded'> {
    const job = { imagesPerSet, isStale, onUpdate, done: 0 };
    const ft = this.source.members - 1;
    for (const r of recipes) {
      let ok: boolean;
      if (r.kind === 'weights') ok = (await this.weightsSoup(r.weights, 'weights', job)) !== null;
      else if (r.kind === 'uniform') ok = (await this.weightsSoup(soupWeights([...Array(ft).keys()], ft), 'uniform', job)) !== null;
      else if (r.kind === 'greedy') ok = await this.greedy(job);
      else ok = await this.modelStockSoup(job);
      if (!ok) return 'superseded';
    }
    return 'done';
  }

  private async modelStockSoup(job: Parameters<SoupSettings['evaluate']>[3]): Promise<boolean> {
    const { layers, coefficients } = await this.stockOf();
    const key = soupKey(this.resultsKey, 'model-stock');
    job.onUpdate({ kind: 'model-stock', resultsKey: this.resultsKey, layers, soupKey: key });
    return (await this.evaluate('model-stock', coefficients, 'model-stock', job)) !== null;
  }
}
