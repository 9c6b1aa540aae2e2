/**
 * Receptive-field geometry of a graph, from the IR alone: for every node on the spatial path, the size
 * of one output unit's receptive field at the network input (rf) and the input cells between two
 * neighbouring units (jump), per spatial dimension. Several checks (border band, grid, focus) read it.
 */
import type { LayerNode, ModelGraph } from '../model/graph.js';
import { transposePads, transposedSize } from '../model/kinds/conv-transpose.js';

export interface NodeGeometry {
  /** Spatial dims of the node's output (H, W, ...); empty when the tensor is no longer a grid. */
  size: number[];
  rf: number[];
  jump: number[];
}

export interface Geometry {
  /** Spatial dims of the (first) network input; empty for a vector input. */
  inputSize: number[];
  byNode: Map<string, NodeGeometry>;
}

/** Kinds that slide a window over the grid. */
export function isWindowed(node: LayerNode): node is Extract<LayerNode, { kind: 'Conv' | 'DepthwiseConv' | 'Pool' }> {
  return node.kind === 'Conv' || node.kind === 'DepthwiseConv' || node.kind === 'Pool';
}

// The layers LRP's linear rules apply to: the engine's definition, so the checks and the engine agree.
export { isLinear } from '../lrp/linear.js';

/** Spatial dims of a channels-last shape [batch, ...spatial, channels]. */
export function spatialOf(shape: (number | null)[], rank: number): number[] {
  if (shape.length !== rank + 2) return [];
  return shape.slice(1, 1 + rank).map((d) => (typeof d === 'number' ? d : NaN));
}

function windowOf(node: LayerNode): { k: number[]; s: number[]; d: number[] } | null {
  if (node.kind === 'Conv' || node.kind === 'DepthwiseConv') return { k: node.params.kernelSize, s: node.params.strides, d: node.params.dilation };
  if (node.kind === 'Pool') return { k: node.params.poolSize, s: node.params.strides, d: node.params.poolSize.map(() => 1) };
  return null;
}

/**
 * Padding per spatial dim, [before, after]: the resolved pads where shape inference filled them,
 * else TF's rule for 'same' (the odd extra cell goes after), zero for 'valid'.
 */
export function resolvedPads(node: LayerNode, graph: ModelGraph): [number, number][] {
  if (node.kind === 'ZeroPadding') return node.params.pads;
  if (!isWindowed(node)) return [];
  const p = node.params.padding;
  const w = windowOf(node)!;
  if (p.pads.length === w.k.length) return p.pads;
  if (p.mode === 'valid') return w.k.map(() => [0, 0]);
  if (p.mode === 'causal') return w.k.map((k, i) => [(k - 1) * w.d[i], 0]);
  const inbound = graph.nodes.find((n) => n.name === node.inbound[0]);
  const inSize = inbound ? spatialOf(inbound.outputShape, w.k.length) : [];
  return w.k.map((k, i) => {
    const ke = (k - 1) * w.d[i] + 1;
    const n = inSize[i];
    const total = Number.isFinite(n) ? Math.max((Math.ceil(n / w.s[i]) - 1) * w.s[i] + ke - n, 0) : ke - 1;
    const before = Math.floor(total / 2);
    return [before, total - before];
  });
}

export function computeGeometry(graph: ModelGraph): Geometry {
  const byNode = new Map<string, NodeGeometry>();
  const first = graph.inputs[0] ? graph.nodes.find((n) => n.name === graph.inputs[0].node) : undefined;
  const inShape = first?.outputShape ?? [];
  const inputSize = inShape.length >= 3 ? spatialOf(inShape, inShape.length - 2) : [];
  for (const node of graph.nodes) {
    if (node.kind === 'Input') {
      const size = node.outputShape.length >= 3 ? spatialOf(node.outputShape, node.outputShape.length - 2) : [];
      byNode.set(node.name, { size, rf: size.map(() => 1), jump: size.map(() => 1) });
      continue;
    }
    const ins = node.inbound.map((n) => byNode.get(n)).filter((g): g is NodeGeometry => !!g && g.size.length > 0);
    if (ins.length === 0) {
      byNode.set(node.name, { size: [], rf: [], jump: [] });
      continue;
    }
    const base = ins[0];
    const rank = base.size.length;
    const outSize = node.outputShape.length === rank + 2 ? spatialOf(node.outputShape, rank) : [];
    let rf = ins.reduce((acc, g) => acc.map((r, i) => Math.max(r, g.rf[i] ?? r)), base.rf.slice());
    let jump = base.jump.slice();
    const w = windowOf(node);
    if (w && w.k.length === rank) {
      rf = rf.map((r, i) => r + ((w.k[i] - 1) * w.d[i]) * jump[i]);
      jump = jump.map((j, i) => j * w.s[i]);
    } else if (node.kind === 'UpSampling' && node.params.size.length === rank) {
      jump = jump.map((j, i) => j / node.params.size[i]);
    } else if (node.kind === 'ConvTranspose' && node.params.kernelSize.length === rank) {
      // An output cell reads ceil(K / s) neighbouring input cells; neighbouring outputs are 1/s input cells apart.
      const p = node.params;
      rf = rf.map((r, i) => r + (Math.ceil(((p.kernelSize[i] - 1) * p.dilation[i] + 1) / p.strides[i]) - 1) * jump[i]);
      jump = jump.map((j, i) => j / p.strides[i]);
    } else if (node.kind === 'GlobalPool' || node.kind === 'Flatten' || node.kind === 'Dense' || node.kind === 'Reshape' || node.kind === 'Permute') {
      if (node.kind !== 'Dense' || outSize.length === 0) {
        byNode.set(node.name, { size: [], rf: [], jump: [] });
        continue;
      }
    }
    // Shape inference may not have run (hand-built graphs): derive the size from the window.
    let size = outSize;
    if (size.length === 0 || size.some((d) => !Number.isFinite(d))) {
      // A transposed conv's 'same'/'valid' pads are resolved from the input size, as shape inference does.
      const transposed = node.kind === 'ConvTranspose' ? (transposedSize(node.params, base.size, transposePads(node, base.size)) as number[]) : undefined;
      size = base.size.map((n, i) => {
        if (w && w.k.length === rank) {
          const pads = resolvedPads(node, graph)[i] ?? [0, 0];
          return Math.floor((n + pads[0] + pads[1] - ((w.k[i] - 1) * w.d[i] + 1)) / w.s[i]) + 1;
        }
        if (node.kind === 'ZeroPadding') return n + node.params.pads[i][0] + node.params.pads[i][1];
        if (node.kind === 'Cropping') return n - node.params.crops[i][0] - node.params.crops[i][1];
        if (node.kind === 'UpSampling') return n * node.params.size[i];
        if (transposed) return transposed[i];
        return n;
      });
    }
    byNode.set(node.name, { size, rf, jump });
  }
  return { inputSize, byNode };
}

/** Geometry of the tensor a node reads (its first spatial inbound). */
export function inputGeometry(geo: Geometry, node: LayerNode): NodeGeometry | undefined {
  for (const n of node.inbound) {
    const g = geo.byNode.get(n);
    if (g && g.size.length > 0) return g;
  }
  return undefined;
}

/**
 * Width (in network-input cells) of the border band whose relevance can pass through units of `node`
 * that read its zero padding, per spatial dim and side [before, after].
 */
export function paddingBand(node: LayerNode, graph: ModelGraph, geo: Geometry): [number, number][] {
  const g = inputGeometry(geo, node);
  const pads = resolvedPads(node, graph);
  if (!g) return pads.map(() => [0, 0]);
  const w = windowOf(node);
  return pads.map(([pb, pa], i) => {
    const k = w ? (w.k[i] - 1) * w.d[i] + 1 : 1;
    const s = w ? w.s[i] : 1;
    const j = g.jump[i] ?? 1;
    const r = g.rf[i] ?? 1;
    // Units i < ceil(p/s) read padding; the last of them reaches (i*s - p + k - 1) cells into the input.
    const side = (p: number): number => {
      if (p <= 0) return 0;
      const last = Math.ceil(p / s) - 1;
      return Math.max(0, (last * s - p + k - 1) * j + r);
    };
    return [side(pb), side(pa)];
  });
}
