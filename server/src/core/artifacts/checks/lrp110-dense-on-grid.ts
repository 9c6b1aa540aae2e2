/** LRP110: a Dense layer on a flattened grid with no convolution before it. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { label, makeFinding } from '../check.js';
import type { LayerNode, ModelGraph } from '../../model/graph.js';
import type { Finding } from '../finding.js';

export const meta: CheckMeta = {
  code: 'LRP110',
  title: 'Dense layer on a flattened grid',
  severity: 'warning',
  thresholds: {},
  remedy: 'Use convolutions (a spatial prior) before flattening, or smooth/average maps over many samples before reading single cells.',
};

function upstream(graph: ModelGraph, node: LayerNode): LayerNode[] {
  const seen = new Set<string>();
  const stack = [...node.inbound];
  const acc: LayerNode[] = [];
  while (stack.length) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const n = graph.nodes.find((m) => m.name === name);
    if (!n) continue;
    acc.push(n);
    stack.push(...n.inbound);
  }
  return acc;
}

export const check: StaticCheck = {
  meta,
  check({ graph }) {
    const out: Finding[] = [];
    for (const node of graph.nodes) {
      if (node.kind !== 'Flatten' && node.kind !== 'Reshape') continue;
      const prev = graph.nodes.find((n) => n.name === node.inbound[0]);
      if (!prev) continue;
      const inShape = prev.outputShape;
      // A grid: at least two non-trivial axes besides the batch (H, W[, C]).
      const dims = inShape.slice(1).filter((d) => typeof d === 'number' && d > 1);
      if (dims.length < 2) continue;
      const dense = graph.nodes.find((n) => n.kind === 'Dense' && n.inbound.includes(node.name));
      if (!dense) continue;
      const ups = upstream(graph, node);
      if (ups.some((n) => n.kind === 'Conv' || n.kind === 'DepthwiseConv' || n.kind === 'Pool')) continue;
      out.push(
        makeFinding(meta, graph, {
          node: dense,
          message: `${label(dense)} reads the grid [${inShape.slice(1).join('x')}] flattened by ${label(node)} with no convolution before it (threshold: none): each cell has its own weight, so maps show salt-and-pepper patterns that can fit noise`,
          data: { grid: inShape.slice(1).map((d) => (typeof d === 'number' ? d : -1)) },
        }),
      );
    }
    return out;
  },
};
