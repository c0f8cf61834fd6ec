// Soups as results lines for `wiseft eval --soups`: the wise-ft JSON-lines keys ("<set>:top1",
// "<set>:n") with the mixing described in the line itself, so a line never reads as an α point.
import type { SoupRecipe, SoupUpdate } from './soups';
import { soupWeights, type GreedyStep } from './greedy';
import type { StockLayer } from './modelStock';
import type { SetAccuracy } from '../eval/frontier';
import type { CalibrationStats } from '../eval/calibrationReport';
import { calibrationEntries } from '../eval/results';
import { own } from '../eval/ids';

export type SoupLine = Record<string, unknown> & { soup: SoupRecipe['kind'] };

const WEIGHTS = /^weights=(.+)$/;

/** "uniform,greedy,model-stock,weights=0:0.5:0.5:0" → recipes; weights are decimals, one per member. */
export function parseSoupRecipes(spec: string): SoupRecipe[] {
  return spec.split(',').map((part) => {
    const p = part.trim();
    if (p === 'uniform' || p === 'greedy' || p === 'model-stock') return { kind: p };
    const w = WEIGHTS.exec(p);
    if (!w)
      throw new Error(`--soups: '${p}' is not uniform, greedy, model-stock or weights=w0:w1:… (one weight per member, zero-shot first)`);
    const weights = w[1]!.split(':').map(Number);
    if (!weights.every(Number.isFinite)) throw new Error(`--soups: '${p}' has a weight that is not a number`);
    return { kind: 'weights', weights };
  });
}

function accuracies(point: Record<string, SetAccuracy>, calibration?: Record<string, CalibrationStats>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, a] of Object.entries(point)) {
    out[`${id}:top1`] = a.n > 0 ? a.correct / a.n : 0;
    out[`${id}:n`] = a.n;
    const c = calibration && own(calibration, id);
    if (c) Object.assign(out, calibrationEntries(id, c));
  }
  return out;
}

/** A soup's ECE and NLL per set, by its soupKey: adds "<set>:ece", "<set>:nll" to its line. */
export type SoupCalibration = (soupKey: string) => Record<string, CalibrationStats>;

/** Collects a soup run's updates and writes one line per recipe asked for, in the order asked. */
export class SoupLines {
  private readonly points = new Map<string, { recipe: SoupRecipe['kind']; weights: number[] | null; point: Record<string, SetAccuracy> }>();
  private readonly steps: { step: GreedyStep; key: string }[] = [];
  private stock: { layers: StockLayer[]; key: string } | null = null;

  /** `members`: the K members' names, zero-shot first, as the mixing names them; `calibration`: ECE and NLL per soup, when wanted. */
  constructor(
    private readonly members: readonly string[],
    private readonly calibration?: SoupCalibration,
  ) {}

  add(u: SoupUpdate): void {
    if (u.kind === 'soup-chunk') this.points.set(u.soupKey, { recipe: u.recipe, weights: u.weights, point: u.point });
    else if (u.kind === 'greedy-step') this.steps.push({ step: u.step, key: u.soupKey });
    else this.stock = { layers: u.layers, key: u.soupKey };
  }

  private mixing(w: readonly number[]): Record<string, number> {
    return Object.fromEntries(this.members.map((m, i) => [m, w[i] ?? 0]));
  }

  private lineOf(key: string, soup: SoupRecipe['kind'], extra: Record<string, unknown> = {}): SoupLine {
    const got = this.points.get(key);
    if (!got) throw new Error(`no results for soup ${key}`);
    return {
      soup,
      ...(got.weights ? { mixing: this.mixing(got.weights) } : {}),
      ...extra,
      ...accuracies(got.point, this.calibration?.(key)),
    };
  }

  private greedyLine(): SoupLine {
    const last = this.steps.at(-1);
    if (!last) throw new Error('the greedy soup reported no step');
    const name = (m: number) => this.members[m + 1]!;
    const steps = this.steps.map(({ step }) => ({
      member: name(step.member),
      alone: step.alone,
      candidate: step.candidate,
      kept: step.kept,
    }));
    return this.lineOf(last.key, 'greedy', { greedy: steps });
  }

  private stockLine(): SoupLine {
    if (!this.stock) throw new Error('Model Stock reported no layers');
    const layers = this.stock.layers.map((l) => ({ layer: l.id, cos: l.cos, t: l.t }));
    return this.lineOf(this.stock.key, 'model-stock', { mixing: 'model-stock', layers });
  }

  /** One line per recipe; `keyOf` gives a weights recipe's soupKey (the uniform one's too). */
  lines(recipes: readonly SoupRecipe[], keyOf: (w: readonly number[]) => string): SoupLine[] {
    const ft = this.members.length - 1;
    return recipes.map((r) => {
      if (r.kind === 'greedy') return this.greedyLine();
      if (r.kind === 'model-stock') return this.stockLine();
      const w = r.kind === 'weights' ? r.weights : soupWeights([...Array(ft).keys()], ft);
      return this.lineOf(keyOf(w), r.kind);
    });
  }
}
