/**
 * Keras channels_first layers on the channels-last IR, and the fix-ups that need shapes.
 *
 * A channels_first layer runs channels-last between two generated Permute nodes (the config builder adds
 * them: `<name>/to_channels_last` before, `<name>/to_channels_first` after; Keras kernels have the same
 * layout in both formats, so no weight moves). Once the graph is whole, `settleKerasLayouts`:
 * - wraps a BatchNormalization over a non-last axis (axis=1 after channels_first convs) the same way, and
 *   puts the move of channels last in front of a channels_first Flatten (Keras flattens in (spatial, C)
 *   order there), from the ranks the layers' params give (no shape inference: the loader runs that once,
 *   on the finished graph);
 * - broadcasts the scalar affine weights of Rescaling / Normalization(axis=None) to the channel count;
 * - removes back-to-back generated Permutes that cancel, and turns a pair at a model input or output into
 *   that spec's file layout (NCW, NCHW, NCDHW), so `predict` takes and returns the file's own layout and the
 *   rest of the graph stays channels-last.
 */
import type { KindParams, LayerKind, LayerNode, LayerNodeOf, Layout, ModelGraph, Shape, WeightTensor } from '../graph.js';
import { LINEAR } from '../graph.js';
import { LensError } from '../../errors.js';
import { inferShapes, topoSort } from '../shapes.js';

export interface KerasLayoutFixups {
  /** Names of the Permute nodes generated for channels_first layers. */
  generated: Set<string>;
  /** Generated Permutes after a layer (consumers of the layer read them). */
  post: Set<string>;
  /** Flatten layers with data_format channels_first. */
  cfFlatten: Set<string>;
  /** BatchNorm nodes whose weights hold one value to broadcast over the channels. */
  broadcast: Set<string>;
}

export function newFixups(): KerasLayoutFixups {
  return { generated: new Set(), post: new Set(), cfFlatten: new Set(), broadcast: new Set() };
}

/** Keras Permute dims (1-based, batch excluded) moving axis `from` (1-based) to the end of a rank-r tensor. */
export function moveToLastDims(rank: number, from: number): number[] {
  const dims: number[] = [];
  for (let i = 1; i < rank; i++) if (i !== from) dims.push(i);
  dims.push(from);
  return dims;
}

/** The inverse of a Keras Permute. */
export function inverseDims(dims: number[]): number[] {
  const inv = new Array<number>(dims.length);
  dims.forEach((d, i) => (inv[d - 1] = i + 1));
  return inv;
}

export function permuteNode(name: string, inbound: string[], dims: number[], className: string): LayerNode {
  return {
    name,
    kind: 'Permute',
    inbound,
    params: { dims } satisfies KindParams['Permute'],
    weights: {},
    activation: LINEAR,
    outputShape: [],
    source: { className: `${className} (channels_first)` },
  };
}

const CHANNELS_FIRST: Record<number, Layout> = { 3: 'NCW', 4: 'NCHW', 5: 'NCDHW' };

function sameDims(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

type Ranks = Map<string, number>;
type RankRule<K extends LayerKind> = (n: LayerNodeOf<K>, inputs: (number | undefined)[]) => number | undefined;

const sameAsInput: RankRule<LayerKind> = (_n, inputs) => inputs[0];
const broadcastRank: RankRule<LayerKind> = (_n, inputs) => (inputs.every((r) => r !== undefined) ? Math.max(...(inputs as number[])) : undefined);

/** The output rank of each kind from its params and its inputs' ranks (a new kind must say). */
const RANK: { [K in LayerKind]: RankRule<K> } = {
  Input: () => undefined, // from the input spec
  Dense: sameAsInput,
  Conv: (n) => n.params.rank + 2,
  DepthwiseConv: (n) => n.params.rank + 2,
  ConvTranspose: (n) => n.params.rank + 2,
  Pool: sameAsInput,
  GlobalPool: (n) => (n.params.keepDims ? n.params.rank + 2 : 2),
  Flatten: () => 2,
  Reshape: (n) => n.params.targetShape.length + 1,
  Permute: (n) => n.params.dims.length + 1,
  ZeroPadding: sameAsInput,
  Cropping: sameAsInput,
  UpSampling: sameAsInput,
  BatchNorm: sameAsInput,
  Identity: sameAsInput,
  Activation: sameAsInput,
  PReLU: sameAsInput,
  Add: broadcastRank,
  Subtract: broadcastRank,
  Average: broadcastRank,
  Multiply: broadcastRank,
  Maximum: broadcastRank,
  Minimum: broadcastRank,
  Concatenate: sameAsInput,
  Recurrent: (n) => (n.params.returnSequences ? 3 : 2),
};

/**
 * The output rank of every node, from params alone: all that moving a BatchNorm axis or a channels_first
 * Flatten needs, so those (most Keras 2 CNNs have BatchNormalization(axis=3) or axis=1) cost no shape
 * inference before the one the loader runs on the finished graph.
 */
function ranksOf(graph: ModelGraph): Ranks {
  const ranks: Ranks = new Map();
  for (const s of graph.inputs) ranks.set(s.node, s.fileShape.length);
  for (const n of topoSort(graph.nodes)) {
    if (n.kind === 'Input') continue;
    const r = (RANK[n.kind] as RankRule<LayerKind>)(n, n.inbound.map((i) => ranks.get(i)));
    if (r !== undefined) ranks.set(n.name, r);
  }
  return ranks;
}

/**
 * The input shape of each broadcast BatchNorm (Rescaling or Normalization with one value for every
 * channel: the weights need the channel count), inferred on a copy of only the layers before it, which for
 * these preprocessing layers is mostly the model input alone. Broadcast nodes among them are shaped as
 * the identity they are shape-wise (their weights are broadcast only below).
 */
function broadcastInputShapes(graph: ModelGraph, broadcast: Set<string>): Map<string, Shape> {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const wanted = graph.nodes.filter((n) => broadcast.has(n.name) && n.inbound.length > 0);
  const keep = new Set<string>();
  const stack = wanted.map((n) => n.inbound[0]);
  while (stack.length > 0) {
    const name = stack.pop() as string;
    const n = byName.get(name);
    if (!n || keep.has(name)) continue;
    keep.add(name);
    stack.push(...n.inbound);
  }
  const nodes = graph.nodes.filter((n) => keep.has(n.name)).map((n) => {
    const copy = { ...n, inbound: [...n.inbound], params: structuredClone(n.params), activation: { ...n.activation }, outputShape: [] } as LayerNode;
    return broadcast.has(n.name) ? ({ ...copy, kind: 'Identity', params: { originalClass: n.source.className }, weights: {} } as LayerNode) : copy;
  });
  if (nodes.length === 0) return new Map();
  const copy: ModelGraph = {
    ...graph,
    nodes,
    inputs: graph.inputs.filter((s) => keep.has(s.node)).map((s) => ({ ...s, fileShape: [...s.fileShape] })),
    outputs: wanted.map((n) => ({ node: n.inbound[0], fileName: n.inbound[0], fileShape: [], fileLayout: 'other' as Layout })),
  };
  inferShapes(copy);
  const shapes = new Map(copy.nodes.map((n) => [n.name, n.outputShape]));
  return new Map(wanted.map((n) => [n.name, shapes.get(n.inbound[0]) ?? []]));
}

export function settleKerasLayouts(graph: ModelGraph, fix: KerasLayoutFixups): void {
  const needsFixups = fix.cfFlatten.size > 0 || fix.broadcast.size > 0 || graph.nodes.some((n) => n.kind === 'BatchNorm' && n.params.axis !== -1);
  if (needsFixups) {
    const ranks = ranksOf(graph);
    const broadcastInputs = fix.broadcast.size > 0 ? broadcastInputShapes(graph, fix.broadcast) : new Map<string, Shape>();
    const inserted: LayerNode[] = [];
    const alias = new Map<string, string>();
    for (const n of graph.nodes) {
      const rank = ranks.get(n.inbound[0] ?? '') ?? 0;
      if (n.kind === 'BatchNorm') {
        const axis = n.params.axis < 0 ? n.params.axis + rank : n.params.axis;
        if (fix.broadcast.has(n.name)) broadcastWeights(graph.file, n.name, n.weights, broadcastInputs.get(n.name)?.[axis]);
        if (rank >= 3 && axis >= 1 && axis < rank - 1) {
          // Normalise channels-last: Permute the axis last, BatchNorm over -1, Permute back.
          const dims = moveToLastDims(rank, axis);
          const a = permuteNode(`${n.name}/to_channels_last`, n.inbound, dims, n.source.className);
          const b = permuteNode(`${n.name}/to_channels_first`, [n.name], inverseDims(dims), n.source.className);
          fix.generated.add(a.name).add(b.name);
          fix.post.add(b.name);
          n.inbound = [a.name];
          n.params = { ...n.params, axis: -1 };
          alias.set(n.name, b.name);
          inserted.push(a, b);
        }
      } else if (n.kind === 'Flatten' && fix.cfFlatten.has(n.name) && rank >= 3) {
        const pre = permuteNode(`${n.name}/to_channels_last`, n.inbound, moveToLastDims(rank, 1), n.source.className);
        fix.generated.add(pre.name);
        n.inbound = [pre.name];
        inserted.push(pre);
      }
    }
    graph.nodes.push(...inserted);
    if (alias.size > 0) {
      for (const m of graph.nodes) if (!fix.post.has(m.name)) m.inbound = m.inbound.map((i) => alias.get(i) ?? i);
      for (const o of graph.outputs) o.node = alias.get(o.node) ?? o.node;
    }
  }
  graph.nodes = topoSort(graph.nodes);
  simplifyPermutes(graph, fix);
  if (foldInputs(graph, fix)) {
    graph.nodes = topoSort(graph.nodes);
    simplifyPermutes(graph, fix);
  }
  foldOutputs(graph, fix);
  graph.nodes = topoSort(graph.nodes);
}

/** Kinds that act on each element alone (so a Permute commutes with them). */
function elementwise(n: LayerNode): boolean {
  if (n.kind === 'Identity') return true;
  if (n.kind === 'Activation') {
    const a = n.params.activation.name;
    return a !== 'softmax' && a !== 'log_softmax';
  }
  return false;
}

const MERGES = new Set(['Add', 'Subtract', 'Average', 'Multiply', 'Maximum', 'Minimum']);

/**
 * Passes in topological order (each linear in the graph's size) that
 * - move a generated Permute down past an elementwise layer or a merge whose inputs are all the same
 *   Permute (Add of two permuted tensors is the permuted Add; Concatenate's axis is renumbered), and
 * - remove a generated Permute that undoes the generated Permute before it (their readers read its input),
 * so a Permute back to channels-first meets the next layer's Permute to channels-last and both go.
 */
function simplifyPermutes(graph: ModelGraph, fix: KerasLayoutFixups): void {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const readers = new Map<string, LayerNode[]>();
  for (const n of graph.nodes) readers.set(n.name, []);
  for (const n of graph.nodes) for (const i of new Set(n.inbound)) readers.get(i)?.push(n);
  const removed = new Set<string>();
  const outputsOf = (name: string): boolean => graph.outputs.some((o) => o.node === name);
  const movable = (p: LayerNode | undefined, into: LayerNode): p is LayerNode =>
    p !== undefined && fix.generated.has(p.name) && !removed.has(p.name) && !outputsOf(p.name) && (readers.get(p.name) ?? []).every((r) => r === into);
  /** Everything that read `from` reads `to`. */
  const redirect = (from: string, to: string): void => {
    const rs = readers.get(from) ?? [];
    for (const r of rs) r.inbound = r.inbound.map((i) => (i === from ? to : i));
    const target = readers.get(to) ?? [];
    for (const r of rs) if (!target.includes(r)) target.push(r);
    readers.set(to, target);
    readers.set(from, []);
    for (const o of graph.outputs) if (o.node === from) o.node = to;
  };
  const drop = (n: LayerNode): void => {
    removed.add(n.name);
    for (const i of n.inbound) readers.set(i, (readers.get(i) ?? []).filter((r) => r !== n));
  };

  for (let pass = 0, changed = true; changed && pass < 8; pass++) {
    changed = false;
    for (const a of graph.nodes) {
      if (removed.has(a.name)) continue;
      // Cancel: a generated Permute right after one it undoes.
      if (fix.generated.has(a.name)) {
        const p = byName.get(a.inbound[0]);
        if (p && fix.generated.has(p.name) && !removed.has(p.name) && sameDims(dimsOf(a), inverseDims(dimsOf(p)))) {
          redirect(a.name, p.inbound[0]);
          drop(a);
          if ((readers.get(p.name) ?? []).length === 0 && !outputsOf(p.name)) drop(p);
          changed = true;
        }
        continue;
      }
      // Sink: the same Permute on every input of an elementwise layer or merge moves below it.
      const merge = (MERGES.has(a.kind) || a.kind === 'Concatenate') && a.activation.name !== 'softmax' && a.activation.name !== 'log_softmax';
      if ((!elementwise(a) && !merge) || a.inbound.length === 0 || new Set(a.inbound).size !== a.inbound.length) continue;
      const ps = a.inbound.map((i) => byName.get(i));
      if (!ps.every((p) => movable(p, a))) continue;
      const p0 = ps[0] as LayerNode;
      if (!ps.every((p) => sameDims(dimsOf(p as LayerNode), dimsOf(p0)))) continue;
      if (a.kind === 'Concatenate') {
        // Axis k of the permuted tensor is axis dims[k - 1] of the Permute's input.
        const dims = dimsOf(p0);
        const k = a.params.axis < 0 ? a.params.axis + dims.length + 1 : a.params.axis;
        if (k < 1 || k > dims.length) continue;
        a.params = { ...a.params, axis: dims[k - 1] };
      }
      const srcs = ps.map((p) => (p as LayerNode).inbound[0]);
      redirect(a.name, p0.name);
      readers.set(p0.name, (readers.get(p0.name) ?? []).filter((r) => r !== a));
      for (const p of ps) drop(p as LayerNode);
      removed.delete(p0.name);
      a.inbound = srcs;
      for (const src of new Set(srcs)) readers.get(src)?.push(a);
      p0.inbound = [a.name];
      readers.set(a.name, [p0]);
      changed = true;
    }
  }
  graph.nodes = graph.nodes.filter((n) => !removed.has(n.name));
}

function broadcastWeights(file: string, layer: string, weights: Record<string, WeightTensor>, channels: number | null | undefined): void {
  if (typeof channels !== 'number') {
    throw new LensError('SHAPE_MISMATCH', `layer ${layer} needs a known size on its channel axis`, { file, layer, hint: 'declare the input shape fully (no None except the batch) and re-save' });
  }
  for (const [k, w] of Object.entries(weights)) {
    if (w.data.length === channels) continue;
    weights[k] = { shape: [channels], data: new Float32Array(channels).fill(w.data[0]) };
  }
}

function consumersOf(graph: ModelGraph, name: string): LayerNode[] {
  return graph.nodes.filter((n) => n.inbound.includes(name));
}

function isOutput(graph: ModelGraph, name: string): boolean {
  return graph.outputs.some((o) => o.node === name);
}

function dimsOf(n: LayerNode): number[] {
  return (n.params as KindParams['Permute']).dims;
}

/**
 * An input read by channels_first layers (through Permutes to channels-last) is channels-first in the
 * file: the Input node becomes channels-last, those Permutes go, and any other reader gets one Permute
 * back to the file's layout (which the next simplification may move on and cancel).
 */
function foldInputs(graph: ModelGraph, fix: KerasLayoutFixups): boolean {
  let any = false;
  for (const spec of graph.inputs) {
    const rank = spec.fileShape.length;
    const layout = CHANNELS_FIRST[rank];
    if (!layout || spec.fileLayout !== defaultLayout(rank) || isOutput(graph, spec.node)) continue;
    const toLast = moveToLastDims(rank, 1);
    const readers = consumersOf(graph, spec.node);
    const gone = new Set(readers.filter((r) => fix.generated.has(r.name) && sameDims(dimsOf(r), toLast)).map((r) => r.name));
    if (gone.size === 0) continue;
    const others = readers.filter((r) => !gone.has(r.name));
    let back: string | undefined;
    if (others.length > 0) {
      const p = permuteNode(`${spec.node}/to_channels_first`, [spec.node], inverseDims(toLast), 'InputLayer');
      fix.generated.add(p.name);
      graph.nodes.push(p);
      back = p.name;
      for (const r of others) r.inbound = r.inbound.map((i) => (i === spec.node ? (back as string) : i));
    }
    for (const m of graph.nodes) m.inbound = m.inbound.map((i) => (gone.has(i) ? spec.node : i));
    for (const o of graph.outputs) if (gone.has(o.node)) o.node = spec.node;
    graph.nodes = graph.nodes.filter((n) => !gone.has(n.name));
    spec.fileLayout = layout;
    any = true;
  }
  return any;
}

/** An output that is a Permute back to channels-first: the output is channels-first in the file. */
function foldOutputs(graph: ModelGraph, fix: KerasLayoutFixups): void {
  for (const spec of graph.outputs) {
    const p = graph.nodes.find((n) => n.name === spec.node);
    if (!p || !fix.post.has(p.name)) continue;
    const rank = dimsOf(p).length + 1;
    const layout = CHANNELS_FIRST[rank];
    if (!layout || !sameDims(dimsOf(p), inverseDims(moveToLastDims(rank, 1)))) continue;
    spec.node = p.inbound[0];
    spec.fileLayout = layout;
    spec.fileShape = [];
    if (consumersOf(graph, p.name).length === 0 && !isOutput(graph, p.name)) graph.nodes = graph.nodes.filter((n) => n !== p);
  }
}

function defaultLayout(rank: number): Layout {
  return rank === 3 ? 'NWC' : rank === 4 ? 'NHWC' : rank === 5 ? 'NDHWC' : 'other';
}
