/**
 * Pointwise layers as ONNX ops (channels-first): activations and PReLU (rule pass: relevance unchanged),
 * a BatchNorm left unmerged and the merges Add / Average / Subtract (rule norm: x_i * J_i^T d with
 * d = R / stab(z)) and Multiply (rule split: R / n per input).
 */
import type { ActivationSpec, LayerNode, LayerNodeOf } from '../model/graph.js';
import type { Stabilizer } from '../lrp/rules.js';
import type { GraphWriter } from './graph-writer.js';
import { refuse } from './linear-ops.js';
import { stabilizeOnnx } from './linear-rule-ops.js';

/** act(x) for the activations ONNX has (or composes exactly); others are refused. */
export function activationForward(w: GraphWriter, layer: string, a: ActivationSpec, x: string): string {
  switch (a.name) {
    case 'linear':
      return x;
    case 'relu': {
      if (a.threshold) refuse(layer, `ReLU with a threshold (${layer})`);
      const hasMax = a.maxValue !== undefined && Number.isFinite(a.maxValue);
      if (a.alpha) {
        if (hasMax) refuse(layer, `ReLU with a negative slope and a cap (${layer})`);
        return w.o('LeakyRelu', [x], { alpha: { float: a.alpha } });
      }
      return hasMax ? w.o('Clip', [x, w.scalar(0), w.scalar(a.maxValue!)], {}, 'relu_cap') : w.o('Relu', [x]);
    }
    case 'relu6':
      return w.o('Clip', [x, w.scalar(0), w.scalar(6)], {}, 'relu6');
    case 'leaky_relu':
      return w.o('LeakyRelu', [x], { alpha: { float: a.alpha ?? 0.2 } });
    case 'elu':
      return w.o('Elu', [x], { alpha: { float: a.alpha ?? 1 } });
    case 'selu':
      return w.o('Selu', [x], { alpha: { float: 1.6732632423543772 }, gamma: { float: 1.0507009873554805 } });
    case 'tanh':
      return w.o('Tanh', [x]);
    case 'sigmoid':
      return w.o('Sigmoid', [x]);
    case 'hard_sigmoid':
      return w.o('HardSigmoid', [x], { alpha: { float: a.alpha ?? 0.2 }, beta: { float: a.beta ?? 0.5 } });
    case 'softplus':
      return w.o('Softplus', [x]);
    case 'softsign':
      return w.o('Softsign', [x]);
    case 'exponential':
      return w.o('Exp', [x]);
    case 'swish':
      return w.o('Mul', [x, w.o('Sigmoid', [x])], {}, 'swish');
    default:
      return refuse(layer, `activation ${a.name} inside the network (${layer}) is not lowered`);
  }
}

/** PReLU with its slope (channels-last per-sample shape) moved to channels-first. */
export function preluForward(w: GraphWriter, node: LayerNodeOf<'PReLU'>, x: string, rank: number): string {
  const alpha = node.weights.alpha;
  if (!alpha) refuse(node.name, `PReLU ${node.name} has no slope`);
  const shape = alpha.shape.length === rank ? alpha.shape.slice(1) : alpha.shape;
  let data = alpha.data;
  let dims = [...shape];
  if (dims.length >= 2) {
    // [...spatial, C] -> [C, ...spatial]
    const c = dims[dims.length - 1];
    const s = data.length / c;
    const out = new Float32Array(data.length);
    for (let i = 0; i < s; i++) for (let j = 0; j < c; j++) out[j * s + i] = data[i * c + j];
    data = out;
    dims = [c, ...dims.slice(0, -1)];
  }
  return w.o('PRelu', [x, w.floats('prelu_slope', data, dims)]);
}

/** An unmerged BatchNorm as y = x * scale + shift; returns y and the scale initializer. */
export function batchNormForward(w: GraphWriter, node: LayerNodeOf<'BatchNorm'>, x: string, rank: number): { y: string; scale: string } {
  const p = node.params;
  if (rank > 2 && p.axis !== -1 && p.axis !== rank - 1) refuse(node.name, `BatchNorm ${node.name} over axis ${p.axis}`);
  const mean = node.weights.movingMean.data;
  const variance = node.weights.movingVariance.data;
  const c = mean.length;
  const g = p.scale ? node.weights.gamma?.data : undefined;
  const b = p.center ? node.weights.beta?.data : undefined;
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    scale[i] = (g ? g[i] : 1) / Math.sqrt(variance[i] + p.epsilon);
    shift[i] = (b ? b[i] : 0) - mean[i] * scale[i];
  }
  const dims = rank > 2 ? [c, ...Array(rank - 2).fill(1)] : [c];
  const s = w.floats('bn_scale', scale, dims);
  return { y: w.o('Add', [w.o('Mul', [x, s]), w.floats('bn_shift', shift, dims)], {}, 'bn'), scale: s };
}

export function mergeForward(w: GraphWriter, node: LayerNode, xs: string[], inShapes: (number | null)[][]): string {
  // Broadcast inputs would need sums over the broadcast axes in the relevance.
  if (inShapes.some((s) => s.join() !== inShapes[0].join())) refuse(node.name, `merge ${node.name} broadcasts its inputs`);
  switch (node.kind) {
    case 'Add':
      return xs.slice(1).reduce((a, b) => w.o('Add', [a, b]), xs[0]);
    case 'Average':
      return w.o('Mul', [xs.slice(1).reduce((a, b) => w.o('Add', [a, b]), xs[0]), w.scalar(1 / xs.length)], {}, 'average');
    case 'Subtract':
      if (xs.length !== 2) refuse(node.name, `Subtract ${node.name} with ${xs.length} inputs`);
      return w.o('Sub', [xs[0], xs[1]]);
    case 'Multiply':
      return xs.slice(1).reduce((a, b) => w.o('Mul', [a, b]), xs[0]);
    default:
      return refuse(node.name, `merge ${node.kind} (${node.name}) is not lowered`);
  }
}

/** Norm rule at a merge or an unmerged BatchNorm: x_i * coeff_i * scale * R / stab(z). */
export function normRelevance(w: GraphWriter, node: LayerNode, xs: string[], z: string, r: string, st: Stabilizer, rank: number, bnScale?: string): string[] {
  const d = w.o('Div', [r, stabilizeOnnx(w, z, st, rank)], {}, 'd');
  const coeff = (i: number): number => (node.kind === 'Average' ? 1 / xs.length : node.kind === 'Subtract' && i === 1 ? -1 : 1);
  return xs.map((x, i) => {
    let g = d;
    if (bnScale) g = w.o('Mul', [g, bnScale]);
    const c = coeff(i);
    if (c !== 1) g = w.o('Mul', [g, w.scalar(c)]);
    return w.o('Mul', [x, g], {}, 'r_norm');
  });
}
