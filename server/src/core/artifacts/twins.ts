/**
 * Control models for the map checks that hold the data and the weights fixed and change only the
 * geometry: the `valid` twin drops every zero padding (same -> valid), possible when nothing after the
 * convolutions depends on the grid size (global pooling before the dense layers); the
 * circular-longitude twin (below) keeps the shapes and wraps longitude instead.
 */
import type { LayerNode, LayerNodeOf, ModelGraph } from '../model/graph.js';
import { inferShapes } from '../model/shapes.js';
import { resolvePads } from '../model/kinds/common.js';

/** A node with its shape left for inferShapes to fill in (inputs keep theirs). */
function unshaped(n: LayerNode): LayerNode {
  return { ...n, outputShape: n.kind === 'Input' ? n.outputShape : [] } as LayerNode;
}

/** The twin graph named `<model> (<label>)` with its shapes inferred; undefined when they do not infer. */
function shapedTwin(graph: ModelGraph, nodes: LayerNode[], label: string): ModelGraph | undefined {
  const twin: ModelGraph = { ...graph, name: `${graph.name} (${label})`, nodes, outputs: graph.outputs.map((o) => ({ ...o, fileShape: [] })) };
  try {
    inferShapes(twin);
  } catch {
    return undefined;
  }
  return twin;
}

export function validTwin(graph: ModelGraph): ModelGraph | undefined {
  let changed = false;
  const nodes = graph.nodes.map((n): LayerNode => {
    if ((n.kind === 'Conv' || n.kind === 'DepthwiseConv') && n.params.padding.mode !== 'valid') {
      changed = true;
      return { ...n, params: { ...n.params, padding: { mode: 'valid', pads: [] } }, outputShape: [] } as LayerNode;
    }
    return unshaped(n);
  });
  if (!changed || nodes.some((n) => n.kind === 'ZeroPadding')) return undefined;
  const twin = shapedTwin(graph, nodes, 'valid twin');
  if (!twin) return undefined;
  // Same weights must still fit: every Dense reads as many features as before.
  for (const n of twin.nodes) {
    if (n.kind !== 'Dense') continue;
    const prev = twin.nodes.find((m) => m.name === n.inbound[0]);
    const prevOrig = graph.nodes.find((m) => m.name === n.inbound[0]);
    if (!prev || !prevOrig || JSON.stringify(prev.outputShape) !== JSON.stringify(prevOrig.outputShape)) return undefined;
  }
  return twin;
}

/**
 * A geometry control for LRP202 on a `same`-padded CNN over a global grid: the same weights with the
 * zero padding along longitude replaced by circular padding (each padded convolution reads the columns
 * from the other end of its input, built from Cropping + Concatenate, then pads only latitude with
 * zeros). Output shapes stay the same, so a Flatten + Dense head fits where the `valid` twin cannot;
 * data and weights are held fixed and only what the longitude edges see changes.
 */
const SOURCE = { className: 'CircularPad (LRP Lens control)' };

/** Undefined when the model has no zero-padded 2-D convolution or pads elsewhere (pooling, ZeroPadding). `lonAxis`: 1 or 2 in NHWC. */
export function circularLonTwin(graph: ModelGraph, lonAxis: 1 | 2): ModelGraph | undefined {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const nodes: LayerNode[] = [];
  let changed = false;
  for (const n of graph.nodes) {
    if (n.kind === 'ZeroPadding') return undefined;
    if (n.kind === 'Pool' && n.params.padding.mode !== 'valid' && n.params.padding.pads.some(([a, b]) => a + b > 0)) return undefined;
    if ((n.kind !== 'Conv' && n.kind !== 'DepthwiseConv') || n.params.padding.mode === 'valid') {
      nodes.push(unshaped(n));
      continue;
    }
    const p = n.params;
    if (p.kernelSize.length !== 2) return undefined;
    const src = byName.get(n.inbound[0]);
    const inShape = src?.outputShape;
    if (!inShape || inShape.length !== 4 || inShape[1] === null || inShape[2] === null) return undefined;
    const pads = resolvePads(n, p.padding, [inShape[1], inShape[2]], p.kernelSize, p.strides, p.dilation);
    const li = lonAxis - 1;
    const [l, r] = pads[li];
    const width = inShape[lonAxis] as number;
    if (l + r === 0) {
      nodes.push({ ...n, outputShape: [] } as LayerNode);
      continue;
    }
    if (l > width || r > width) return undefined;
    changed = true;
    const crop = (name: string, keepLast: number, keepFirst: number): LayerNodeOf<'Cropping'> => {
      const crops: [number, number][] = [[0, 0], [0, 0]];
      crops[li] = keepLast ? [width - keepLast, 0] : [0, width - keepFirst];
      return { name, kind: 'Cropping', inbound: [src!.name], params: { rank: 2, crops }, weights: {}, activation: { name: 'linear' }, outputShape: [], source: SOURCE };
    };
    const parts: string[] = [];
    if (l > 0) {
      nodes.push(crop(`${n.name}__lonwrap_left`, l, 0));
      parts.push(`${n.name}__lonwrap_left`);
    }
    parts.push(src!.name);
    if (r > 0) {
      nodes.push(crop(`${n.name}__lonwrap_right`, 0, r));
      parts.push(`${n.name}__lonwrap_right`);
    }
    nodes.push({ name: `${n.name}__lonwrap`, kind: 'Concatenate', inbound: parts, params: { axis: lonAxis }, weights: {}, activation: { name: 'linear' }, outputShape: [], source: SOURCE });
    const latPads: [number, number][] = pads.map((pp, i) => (i === li ? [0, 0] : [pp[0], pp[1]]));
    nodes.push({ ...n, inbound: [`${n.name}__lonwrap`, ...n.inbound.slice(1)], params: { ...p, padding: { mode: 'explicit', pads: latPads } }, outputShape: [] } as LayerNode);
  }
  if (!changed) return undefined;
  const twin = shapedTwin(graph, nodes, 'circular-longitude twin');
  if (!twin) return undefined;
  // Same weights, same head: every output keeps its shape.
  for (const o of graph.outputs) {
    const a = graph.nodes.find((x) => x.name === o.node)?.outputShape;
    const b = twin.nodes.find((x) => x.name === o.node)?.outputShape;
    if (JSON.stringify(a) !== JSON.stringify(b)) return undefined;
  }
  return twin;
}

/**
 * A geometry control for LRP204: the same weights with every max pooling replaced by average pooling of
 * the same window and stride (what the remedy looks like). Shapes stay the same, so any head fits.
 * Undefined when the model has no max pooling.
 */
export function avgPoolTwin(graph: ModelGraph): ModelGraph | undefined {
  let changed = false;
  const nodes = graph.nodes.map((n): LayerNode => {
    if (n.kind === 'Pool' && n.params.op === 'max') {
      changed = true;
      // Keras 'same' average pooling leaves padded cells out of the divisor; so does the twin.
      return { ...n, params: { ...n.params, op: 'avg', countIncludePad: false }, outputShape: [] } as LayerNode;
    }
    return unshaped(n);
  });
  return changed ? shapedTwin(graph, nodes, 'average-pooling twin') : undefined;
}
