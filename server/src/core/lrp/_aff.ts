import type { ModelGraph } from '../model/graph.js';
import { inferShapes } from '../model/shapes.js';
/** Multiply-accumulates per sample of the linear layers (a cost estimate). */
function macs(graph: ModelGraph): number {
  let total = 0;
  for (const n of graph.nodes) {
    const out = n.outputShape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
    const k = n.weights.kernel;
    if (!k) continue;
    if (n.kind === 'Dense') total += k.data.length * (out / k.shape[1]);
    else if (n.kind === 'Conv' || n.kind === 'DepthwiseConv') total += out * (k.data.length / k.shape[k.shape.length - 1]);
  }
  return total;
}

/**
 * The same weights on a smaller field where a model is too costly for a 2-core test run (the 3-D U-Net:
 * 64x64x12 grid): the first two spatial dims shrink 4x. Rules and kernels are what the test checks.
 */
export { macs };
export function affordable(graph: ModelGraph): ModelGraph {
  if (macs(graph) < 2e8) return graph;
  const spec = graph.inputs[0];
  const input = graph.nodes.find((n) => n.name === spec.node)!;
  const shrink = (shape: (number | null)[], first: number) => shape.map((d, i) => (i >= first && i < first + 2 && d !== null && d % 8 === 0 ? d / 8 : d));
  const channelsFirst = spec.fileLayout.startsWith('NC') && spec.fileLayout !== 'NC';
  const nodes = graph.nodes.map((n) => ({ ...n, params: structuredClone(n.params), outputShape: n === input ? shrink(n.outputShape, 1) : [] }));
  return inferShapes({ ...graph, nodes: nodes as ModelGraph['nodes'], inputs: [{ ...spec, fileShape: shrink(spec.fileShape, channelsFirst ? 2 : 1) }] });
}

