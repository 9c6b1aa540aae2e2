/**
 * Canonization before LRP (graph -> graph; the input graph is not modified):
 * 1. BatchNormalization directly after a Dense/Conv/DepthwiseConv (no activation between, no other
 *    consumer) is merged into that layer's kernel and bias, with the file's epsilon.
 * 2. Fused activations are split off into their own Activation nodes, so every linear layer's output is
 *    its pre-activation z (the value LRP rules divide by).
 * 3. A final softmax, sigmoid or log-softmax is stripped: LRP explains the value before it. The result
 *    says so.
 */
import type { ActivationName, LayerNode, LayerNodeOf, ModelGraph, WeightTensor } from './graph.js';
import { LINEAR } from './graph.js';

export interface CanonicalGraph {
  graph: ModelGraph;
  /** BatchNorm nodes merged, and the layer each went into. */
  mergedBatchNorms: { batchNorm: string; into: string }[];
  /** Nodes whose fused activation became its own node. */
  splitActivations: string[];
  /** The output activation that was removed (explanations are of the value before it). */
  strippedOutput?: { activation: ActivationName; layer: string; explains: string };
}

export interface CanonicalizeOptions {
  /** Strip a final softmax/sigmoid/log-softmax (default true). */
  stripOutputActivation?: boolean;
  /** Merge BatchNorm into the preceding linear layer (default true). */
  mergeBatchNorm?: boolean;
}

const STRIPPABLE: ActivationName[] = ['softmax', 'sigmoid', 'log_softmax'];

function cloneNode(n: LayerNode): LayerNode {
  return { ...n, inbound: [...n.inbound], params: structuredClone(n.params), weights: { ...n.weights }, source: { ...n.source } } as LayerNode;
}

export function canonicalize(input: ModelGraph, opts: CanonicalizeOptions = {}): CanonicalGraph {
  let nodes = input.nodes.map(cloneNode);
  let outputs = input.outputs.map((o) => ({ ...o }));
  const result: CanonicalGraph = { graph: input, mergedBatchNorms: [], splitActivations: [] };

  const rename = (from: string, to: string): void => {
    for (const n of nodes) n.inbound = n.inbound.map((i) => (i === from ? to : i));
    for (const o of outputs) if (o.node === from) o.node = to;
  };
  const consumerCount = (name: string): number =>
    nodes.reduce((k, n) => k + n.inbound.filter((i) => i === name).length, 0) + outputs.filter((o) => o.node === name).length;

  if (opts.mergeBatchNorm !== false) {
    for (const bn of [...nodes]) {
      if (bn.kind !== 'BatchNorm' || bn.inbound.length !== 1) continue;
      const prev = nodes.find((n) => n.name === bn.inbound[0]);
      if (!prev || (prev.kind !== 'Dense' && prev.kind !== 'Conv' && prev.kind !== 'DepthwiseConv' && prev.kind !== 'ConvTranspose')) continue;
      if (prev.activation.name !== 'linear' || consumerCount(prev.name) !== 1) continue;
      const rank = bn.outputShape.length;
      if (rank > 0 && bn.params.axis !== -1 && bn.params.axis !== rank - 1) continue;
      mergeBatchNorm(prev, bn as LayerNodeOf<'BatchNorm'>);
      prev.activation = bn.activation;
      nodes = nodes.filter((n) => n !== bn);
      rename(bn.name, prev.name);
      result.mergedBatchNorms.push({ batchNorm: bn.name, into: prev.name });
    }
  }

  const split: LayerNode[] = [];
  for (const n of nodes) {
    split.push(n);
    if (n.kind === 'Activation' || n.activation.name === 'linear') continue;
    const name = uniqueName(nodes, `${n.name}/${n.activation.name}`);
    const act: LayerNodeOf<'Activation'> = {
      name,
      kind: 'Activation',
      inbound: [n.name],
      params: { activation: n.activation },
      weights: {},
      activation: LINEAR,
      outputShape: [...n.outputShape],
      source: { className: `${n.source.className} (fused activation)` },
    };
    n.activation = LINEAR;
    // Everything that read the layer now reads its activation.
    for (const m of nodes) if (m !== n) m.inbound = m.inbound.map((i) => (i === n.name ? name : i));
    for (const o of outputs) if (o.node === n.name) o.node = name;
    split.push(act);
    result.splitActivations.push(n.name);
  }
  nodes = split;

  if (opts.stripOutputActivation !== false && outputs.length > 0) {
    const out = nodes.find((n) => n.name === outputs[0].node);
    if (out && out.kind === 'Activation' && STRIPPABLE.includes(out.params.activation.name) && out.inbound.length === 1 && consumerCount(out.name) === 1) {
      const before = out.inbound[0];
      nodes = nodes.filter((n) => n !== out);
      outputs[0] = { ...outputs[0], node: before };
      const layer = out.source.className.endsWith('(fused activation)') ? before : out.name;
      result.strippedOutput = { activation: out.params.activation.name, layer, explains: before };
    }
  }

  result.graph = { ...input, nodes, outputs };
  return result;
}

function uniqueName(nodes: LayerNode[], base: string): string {
  let name = base;
  for (let i = 1; nodes.some((n) => n.name === name); i++) name = `${base}_${i}`;
  return name;
}

/** Fold y = gamma (x - mean) / sqrt(var + eps) + beta into the kernel and bias of `prev` (output channel last). */
function mergeBatchNorm(prev: LayerNode, bn: LayerNodeOf<'BatchNorm'>): void {
  const mean = bn.weights.movingMean.data;
  const variance = bn.weights.movingVariance.data;
  const c = mean.length;
  const g = bn.params.scale && bn.weights.gamma ? bn.weights.gamma.data : undefined;
  const b = bn.params.center && bn.weights.beta ? bn.weights.beta.data : undefined;
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    scale[i] = (g ? g[i] : 1) / Math.sqrt(variance[i] + bn.params.epsilon);
    shift[i] = (b ? b[i] : 0) - mean[i] * scale[i];
  }
  const kernel = prev.weights.kernel;
  const k = new Float32Array(kernel.data.length);
  // The output channel is the last kernel axis (Dense, Conv), the last two (DepthwiseConv: c * M + m) or the
  // second to last (ConvTranspose: [...k, F, C]).
  const s = kernel.shape;
  const cout = prev.kind === 'DepthwiseConv' ? s[s.length - 2] * s[s.length - 1] : prev.kind === 'ConvTranspose' ? s[s.length - 2] : s[s.length - 1];
  if (cout !== c) throw new Error(`BatchNorm ${bn.name} has ${c} channels, layer ${prev.name} has ${cout}`);
  const inner = prev.kind === 'ConvTranspose' ? s[s.length - 1] : 1;
  for (let i = 0; i < k.length; i++) k[i] = kernel.data[i] * scale[Math.floor(i / inner) % c];
  const oldBias = prev.weights.bias?.data;
  const bias = new Float32Array(c);
  for (let i = 0; i < c; i++) bias[i] = (oldBias ? oldBias[i] : 0) * scale[i] + shift[i];
  const newKernel: WeightTensor = { shape: [...kernel.shape], data: k };
  prev.weights = { ...prev.weights, kernel: newKernel, bias: { shape: [c], data: bias } };
  (prev.params as { useBias: boolean }).useBias = true;
}
