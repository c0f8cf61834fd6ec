// Layer groups for a per-layer α: the blended tensors grouped by what layer they belong to, in
// the order the graph uses them. Found from names and graph order alone, so a pair needs no
// annotation: a numbered block (`encoder.features.3`, `visual.transformer.resblocks.7`) is one
// group; the tensors between blocks (a stem, a projection, a head) group by their top-level module.
import type { GraphProto } from '../onnx/proto';
import type { BlendCoefficients } from './coefficients';

/** A blended tensor, where the graph first uses it (`depth`: the first consuming node's index, `scope`: its name). */
export interface TensorPlace {
  name: string;
  depth: number;
  scope?: string;
}

export interface LayerGroup {
  /** A dotted prefix its tensors share (`encoder.features.3`, `head`): stable for a graph, shown to the user. */
  id: string;
  /** The group's tensors, in graph order. */
  tensors: string[];
}

/** Index of the first node that reads each name (ONNX nodes are topologically sorted); unread ones go last. */
export function tensorDepths(graph: Pick<GraphProto, 'node'>, names: readonly string[]): TensorPlace[] {
  const first = new Map<string, number>();
  graph.node.forEach((node, i) => {
    for (const input of node.input) if (!first.has(input)) first.set(input, i);
  });
  return names.map((name) => {
    const depth = first.get(name) ?? graph.node.length;
    return { name, depth, scope: graph.node[depth]?.name ?? '' };
  });
}

/** A name as module path segments: `/` (torch's node scopes, `onnx::` names) reads as `.`. */
function segments(name: string): string[] {
  return name.split(/[./]|::/).filter((s) => s.length > 0);
}

/** The path up to and including its first numbered segment (a block), or null outside blocks. */
function blockOf(parts: readonly string[]): string | null {
  // The last segment is the parameter (`weight`, `bias`, `proj`), never a block number.
  const i = parts.slice(0, -1).findIndex((s) => /^\d+$/.test(s));
  return i < 0 ? null : parts.slice(0, i + 1).join('.');
}

function commonPrefix(paths: readonly string[]): string {
  const all = paths.map(segments);
  const first = all[0] ?? [];
  let n = 0;
  while (n < first.length && all.every((p) => p[n] === first[n])) n++;
  // A lone tensor is named by its module: `head.weight` is `head`, `encoder.proj` stays itself.
  if (all.length === 1 && n > 1 && /^(weight|bias)$/.test(first[n - 1]!)) n--;
  return first.slice(0, Math.max(1, n)).join('.');
}

/**
 * The module path a tensor belongs to: its name, unless the exporter made one up (`onnx::MatMul_12`,
 * a transposed weight), where the consuming node's scope (`/visual/transformer/resblocks.1/attn/MatMul`)
 * says where it lives.
 */
function pathOf(p: TensorPlace): string {
  return p.name.startsWith('onnx::') && p.scope ? p.scope : p.name;
}

/** The key that decides membership: a block's path, else the top-level module (`head`, `visual`). */
function groupKey(path: string): string {
  const parts = segments(path);
  return blockOf(parts) ?? (parts.length > 1 ? parts[0]! : path);
}

/**
 * Groups tensors in depth order: consecutive tensors with the same key form one group. A key met
 * again after another group (`visual.proj` after the blocks, `visual.conv1` before them) starts a
 * new group, so groups follow depth and a stem never merges with the projection at the end.
 */
export function layerGroups(places: readonly TensorPlace[]): LayerGroup[] {
  const sorted = [...places].sort((a, b) => a.depth - b.depth || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const runs: { key: string; tensors: string[]; paths: string[] }[] = [];
  for (const place of sorted) {
    const path = pathOf(place);
    const key = groupKey(path);
    const last = runs.at(-1);
    if (last && last.key === key) {
      last.tensors.push(place.name);
      last.paths.push(path);
    } else runs.push({ key, tensors: [place.name], paths: [path] });
  }
  const ids = new Map<string, number>();
  return runs.map(({ tensors, paths }) => {
    const block = blockOf(segments(paths[0]!));
    const base = block ?? commonPrefix(paths);
    // Two runs of one module (a stem and a projection) keep distinct ids, numbered by depth.
    const seen = ids.get(base) ?? 0;
    ids.set(base, seen + 1);
    return { id: seen === 0 ? base : `${base}#${seen + 1}`, tensors };
  });
}

/**
 * Coefficients for one α per group (`alphas[g]` for `groups[g]`): each group's tensors get their
 * α as per-tensor overrides. All α equal gives every tensor the same [1 − α, α] as `{ alpha }`, so
 * a uniform per-layer setting is the uniform blend bit for bit.
 */
export function groupCoefficients(groups: readonly LayerGroup[], alphas: readonly number[]): BlendCoefficients {
  if (alphas.length !== groups.length) throw new RangeError(`${alphas.length} α for ${groups.length} layer groups`);
  const perTensor: Record<string, number> = {};
  groups.forEach((g, i) => {
    for (const t of g.tensors) perTensor[t] = alphas[i]!;
  });
  return { alpha: alphas[0] ?? 0, perTensor };
}
