/**
 * A geometry control for LRP202 on a `same`-padded CNN over a global grid: the same weights with the
 * zero padding along longitude replaced by circular padding (each padded convolution reads the columns
 * from the other end of its input, built from Cropping + Concatenate, then pads only latitude with
 * zeros). Output shapes stay the same, so a Flatten + Dense head fits where the `valid` twin cannot;
 * data and weights are held fixed and only what the longitude edges see changes.
 */
import type { LayerNode, LayerNodeOf, ModelGraph } from '../model/graph.js';
import { inferShapes } from '../model/shapes.js';
import { resolvePads } from '../model/kinds/common.js';

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
      nodes.push({ ...n, outputShape: n.kind === 'Input' ? n.outputShape : [] } as LayerNode);
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
  const twin: ModelGraph = { ...graph, name: `${graph.name} (circular-longitude twin)`, nodes, outputs: graph.outputs.map((o) => ({ ...o, fileShape: [] })) };
  try {
    inferShapes(twin);
  } catch {
    return undefined;
  }
  // Same weights, same head: every output keeps its shape.
  for (const o of graph.outputs) {
    const a = graph.nodes.find((x) => x.name === o.node)?.outputShape;
    const b = twin.nodes.find((x) => x.name === o.node)?.outputShape;
    if (JSON.stringify(a) !== JSON.stringify(b)) return undefined;
  }
  return twin;
}
