/**
 * Control models for the map checks that hold the data and the weights fixed and change only the
 * geometry: the `valid` twin drops every zero padding (same -> valid), possible when nothing after the
 * convolutions depends on the grid size (global pooling before the dense layers).
 */
import type { LayerNode, ModelGraph } from '../model/graph.js';
import { inferShapes } from '../model/shapes.js';

export function validTwin(graph: ModelGraph): ModelGraph | undefined {
  let changed = false;
  const nodes = graph.nodes.map((n): LayerNode => {
    if ((n.kind === 'Conv' || n.kind === 'DepthwiseConv') && n.params.padding.mode !== 'valid') {
      changed = true;
      return { ...n, params: { ...n.params, padding: { mode: 'valid', pads: [] } }, outputShape: [] } as LayerNode;
    }
    return { ...n, outputShape: n.kind === 'Input' ? n.outputShape : [] } as LayerNode;
  });
  if (!changed || nodes.some((n) => n.kind === 'ZeroPadding')) return undefined;
  const twin: ModelGraph = { ...graph, name: `${graph.name} (valid twin)`, nodes, outputs: graph.outputs.map((o) => ({ ...o, fileShape: [] })) };
  try {
    inferShapes(twin);
  } catch {
    return undefined;
  }
  // Same weights must still fit: every Dense reads as many features as before.
  for (const n of twin.nodes) {
    if (n.kind !== 'Dense') continue;
    const prev = twin.nodes.find((m) => m.name === n.inbound[0]);
    const prevOrig = graph.nodes.find((m) => m.name === n.inbound[0]);
    if (!prev || !prevOrig || JSON.stringify(prev.outputShape) !== JSON.stringify(prevOrig.outputShape)) return undefined;
  }
  return twin;
}
