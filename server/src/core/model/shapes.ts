/**
 * Shape inference over a whole graph: checks the graph is well formed (unique names, inbound layers that
 * exist, no cycles, input/output specs that name nodes), puts nodes in topological order, and runs each
 * kind's inferShape, which fills outputShape and padding.pads. Anything wrong comes out as a LensError
 * naming the layer.
 */
import type { LayerNode, Layout, ModelGraph, Shape } from './graph.js';
import { LensError, LIMITS } from '../errors.js';
import { isKnownKind, kindOf } from './kinds/registry.js';
import { HARD_SIGMOID_KERAS3 } from './activations.js';

/** Channels-last shape from a shape in the file's layout. */
export function toChannelsLastShape(shape: Shape, layout: Layout): Shape {
  switch (layout) {
    case 'NCW':
    case 'NCHW':
    case 'NCDHW':
      return [shape[0], ...shape.slice(2), shape[1]];
    default:
      return [...shape];
  }
}

/** Kahn's sort keeping the file's order where it is already valid; throws GRAPH_CYCLE on a cycle. */
export function topoSort(nodes: LayerNode[]): LayerNode[] {
  const byName = new Map<string, LayerNode>();
  for (const n of nodes) byName.set(n.name, n);
  const pending = new Map<string, number>();
  const users = new Map<string, string[]>();
  for (const n of nodes) {
    pending.set(n.name, new Set(n.inbound).size);
    for (const i of new Set(n.inbound)) {
      const u = users.get(i);
      if (u) u.push(n.name);
      else users.set(i, [n.name]);
    }
  }
  const index = new Map(nodes.map((n, i) => [n.name, i]));
  // Ready set ordered by original position, so an already-sorted graph keeps its order.
  const ready: number[] = nodes.filter((n) => pending.get(n.name) === 0).map((n) => index.get(n.name) as number);
  const out: LayerNode[] = [];
  while (ready.length) {
    ready.sort((a, b) => b - a);
    const n = nodes[ready.pop() as number];
    out.push(n);
    for (const u of users.get(n.name) ?? []) {
      const left = (pending.get(u) as number) - 1;
      pending.set(u, left);
      if (left === 0) ready.push(index.get(u) as number);
    }
  }
  if (out.length !== nodes.length) {
    const stuck = nodes.filter((n) => (pending.get(n.name) as number) > 0).map((n) => n.name);
    throw new LensError('GRAPH_CYCLE', `the layer graph has a cycle through ${stuck.slice(0, 5).join(', ')}${stuck.length > 5 ? ', ...' : ''}`, { layer: stuck[0] });
  }
  return out;
}

/** Check the graph's structure and fill every node's outputShape (in place; also returns the graph). */
export function inferShapes(graph: ModelGraph): ModelGraph {
  if (!Array.isArray(graph.nodes) || graph.nodes.length === 0) throw new LensError('GRAPH_INVALID', 'the model has no layers');
  if (graph.nodes.length > LIMITS.maxNodes) {
    throw new LensError('SHAPE_LIMIT', `the model has ${graph.nodes.length} nodes, above the limit of ${LIMITS.maxNodes}`);
  }
  const names = new Set<string>();
  for (const n of graph.nodes) {
    if (typeof n.name !== 'string' || n.name === '') throw new LensError('GRAPH_INVALID', 'a layer has no name');
    if (names.has(n.name)) throw new LensError('GRAPH_INVALID', `two layers are named ${n.name}`, { layer: n.name });
    names.add(n.name);
    if (!isKnownKind(n.kind)) throw new LensError('UNSUPPORTED_LAYER', `layer ${n.name} has an unknown kind ${String(n.kind)}`, { layer: n.name });
    if (!Array.isArray(n.inbound)) throw new LensError('GRAPH_INVALID', `layer ${n.name} has no inbound list`, { layer: n.name });
  }
  for (const n of graph.nodes) {
    for (const i of n.inbound) {
      if (!names.has(i)) {
        throw new LensError('GRAPH_INVALID', `layer ${n.name} takes input from ${i}, which is not in the model`, { layer: n.name });
      }
    }
  }
  if (!Array.isArray(graph.inputs) || graph.inputs.length === 0) throw new LensError('GRAPH_INVALID', 'the model declares no inputs');
  if (!Array.isArray(graph.outputs) || graph.outputs.length === 0) throw new LensError('GRAPH_INVALID', 'the model declares no outputs');
  graph.nodes = topoSort(graph.nodes);

  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  for (const spec of graph.inputs) {
    const n = byName.get(spec.node);
    if (!n || n.kind !== 'Input') throw new LensError('GRAPH_INVALID', `model input ${spec.fileName} does not name an input layer`, { layer: spec.node });
    if ((!Array.isArray(n.outputShape) || n.outputShape.length === 0) && Array.isArray(spec.fileShape)) {
      n.outputShape = toChannelsLastShape(spec.fileShape, spec.fileLayout);
    }
  }
  for (const spec of graph.outputs) {
    if (!byName.has(spec.node)) throw new LensError('GRAPH_INVALID', `model output ${spec.fileName} names no layer`, { layer: spec.node });
  }
  for (const n of graph.nodes) {
    if (n.kind === 'Input' && !graph.inputs.some((s) => s.node === n.name)) {
      throw new LensError('GRAPH_INVALID', `input layer ${n.name} is not among the model's inputs`, { layer: n.name });
    }
  }

  const keras3 = graph.format?.name?.startsWith('keras') && /^3\./.test(graph.format.version ?? '');
  const shapes = new Map<string, Shape>();
  for (const n of graph.nodes) {
    if (!n.activation || typeof n.activation.name !== 'string') n.activation = { name: 'linear' };
    if (keras3) adoptKeras3Defaults(n);
    const ins = n.inbound.map((i) => shapes.get(i) as Shape);
    let out: Shape;
    try {
      out = kindOf(n).inferShape(n as never, ins);
    } catch (e) {
      if (e instanceof LensError) throw e.withLayer(n.name);
      // A malformed params object from a damaged file: say which layer, never crash.
      throw new LensError('UNSUPPORTED_CONFIG', `layer ${n.name} (${n.kind}) has a configuration that cannot be used: ${(e as Error).message}`, { layer: n.name });
    }
    if (n.kind !== 'Input') out = reconcileDeclared(n, out);
    n.outputShape = out;
    shapes.set(n.name, out);
  }
  // Loaders may leave an output's declared shape empty: give it the inferred one, in the file's layout.
  for (const spec of graph.outputs) {
    if (!Array.isArray(spec.fileShape) || spec.fileShape.length === 0) {
      spec.fileShape = fromChannelsLastShape(shapes.get(spec.node) as Shape, spec.fileLayout);
    }
  }
  return graph;
}

/** Shape in the file's layout from a channels-last shape. */
export function fromChannelsLastShape(shape: Shape, layout: Layout): Shape {
  switch (layout) {
    case 'NCW':
    case 'NCHW':
    case 'NCDHW':
      return [shape[0], shape[shape.length - 1], ...shape.slice(1, -1)];
    default:
      return [...shape];
  }
}

/**
 * A loader may fill outputShape from the file (ONNX value_info). It must agree with what the layer
 * computes from its inputs; unknown inferred dims take the declared size.
 */
function reconcileDeclared(n: LayerNode, inferred: Shape): Shape {
  const declared = n.outputShape;
  if (!Array.isArray(declared) || declared.length === 0) return inferred;
  const fmt = (s: Shape) => `(${s.map((d) => (d === null ? 'None' : String(d))).join(', ')})`;
  const clash = declared.length !== inferred.length || declared.some((d, i) => i > 0 && d !== null && inferred[i] !== null && d !== inferred[i]);
  if (clash) {
    throw new LensError('SHAPE_MISMATCH', `layer ${n.name}: the file declares output shape ${fmt(declared)}, but its inputs give ${fmt(inferred)}`, { layer: n.name });
  }
  return inferred.map((d, i) => (i > 0 && d === null && typeof declared[i] === 'number' ? declared[i] : d));
}

/** Keras 3 changed hard_sigmoid to relu6(x + 3) / 6; the loaders leave alpha unset, so fill it here. */
function adoptKeras3Defaults(n: LayerNode): void {
  const specs = [n.activation];
  if (n.kind === 'Activation') specs.push(n.params.activation);
  if (n.kind === 'Recurrent') specs.push(n.params.cellActivation, n.params.recurrentActivation);
  for (const s of specs) {
    if (s && s.name === 'hard_sigmoid' && s.alpha === undefined) {
      s.alpha = HARD_SIGMOID_KERAS3.alpha;
      s.beta = HARD_SIGMOID_KERAS3.beta;
    }
  }
}
