// The greedy soup (Wortsman et al., "Model soups", ICML 2022, recipe 1): fine-tuned members sorted
// by reference accuracy, each added to the soup only if the soup's reference accuracy does not drop.
// Pure: the accuracy of a candidate soup comes from the caller, so the same steps run in the
// Worker, the CLI and the tests.

/** One candidate's turn: its own reference accuracy, the candidate soup's, and whether it stayed. */
export interface GreedyStep {
  /** The fine-tuned member (0 = the first fine-tuned one, not the zero-shot model). */
  member: number;
  /** The member alone on the reference set. */
  alone: number;
  /** The soup with this member added (for the first step, the member alone). */
  candidate: number;
  kept: boolean;
  /** The members in the soup after this step, in the order they were added. */
  soup: number[];
}

/** Fine-tuned members by reference accuracy, best first; ties keep manifest order, so the run is reproducible. */
export function greedyOrder(alone: readonly number[]): number[] {
  return alone.map((_, i) => i).sort((a, b) => alone[b]! - alone[a]! || a - b);
}

/**
 * Blend weights over all K members (zero-shot first) for a soup of fine-tuned members `soup`: their
 * plain average, zero-shot and the others at 0.
 */
export function soupWeights(soup: readonly number[], fineTuned: number): number[] {
  if (soup.length === 0) throw new RangeError('a soup needs at least one member');
  const w = new Array<number>(fineTuned + 1).fill(0);
  for (const m of soup) {
    if (!(Number.isInteger(m) && m >= 0 && m < fineTuned)) throw new RangeError(`no fine-tuned member ${m} of ${fineTuned}`);
    w[m + 1]! += 1 / soup.length;
  }
  return w;
}

/**
 * Runs the greedy soup. `accuracyOf(soup)` is the reference accuracy of the uniform soup of those
 * members; `onStep` hears each step as it is decided (the page animates them). "Does not drop":
 * a candidate that ties the best so far is kept, as in the paper's recipe (≥).
 */
export async function greedySoup(
  alone: readonly number[],
  accuracyOf: (soup: readonly number[]) => Promise<number>,
  onStep: (s: GreedyStep) => void = () => {},
): Promise<GreedyStep[]> {
  const steps: GreedyStep[] = [];
  let soup: number[] = [];
  let best = -Infinity;
  for (const member of greedyOrder(alone)) {
    const trial = [...soup, member];
    const candidate = soup.length === 0 ? alone[member]! : await accuracyOf(trial);
    const kept = candidate >= best;
    if (kept) [soup, best] = [trial, candidate];
    const step = { member, alone: alone[member]!, candidate, kept, soup: [...soup] };
    steps.push(step);
    onStep(step);
  }
  return steps;
}
