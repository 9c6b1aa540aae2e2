/**
 * Recurrent: SimpleRNN, LSTM and GRU cells over [batch, time, features], one direction or both, from a
 * zero state, with Keras's equations (ONNX loaders convert to Keras's weight layout and gate order):
 *   simple: h = act(x W + h U + b); with a leak a (echo state network): h = (1 - a) h + a act(x W + h U + b)
 *   lstm:   [i f c o] = x W + h U + b; c = ra(f) c + ra(i) act(c~); h = ra(o) act(c)
 *   gru:    z = ra(xz + h Uz), r = ra(xr + h Ur), h~ = act(xh + (r h) Uh)      (resetAfter false)
 *           h~ = act(xh + r (h Uh + b_rh))                                       (resetAfter true)
 *           h = z h + (1 - z) h~
 * The input projection x W runs once over all steps; the loop only does the h U products.
 */
import type { KindModule } from './kind.js';
import type { LayerNodeOf, RecurrentParams, Shape, WeightTensor } from '../graph.js';
import { applyActivation } from '../activations.js';
import { type TF, type Tensor, badConfig, channels, checkPositiveInts, checkSize, expectInputs, expectRank, expectWeight, mismatch, weightTensor } from './common.js';

type Node = LayerNodeOf<'Recurrent'>;
type T2 = import('@tensorflow/tfjs').Tensor2D;

/** Gates per cell: the width of kernel / recurrentKernel is gates * units. */
export function gateCount(cell: RecurrentParams['cell']): number {
  return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
}

/** Weight keys of one direction. */
export function directionKeys(backward: boolean): { kernel: string; recurrentKernel: string; bias: string } {
  return backward
    ? { kernel: 'backKernel', recurrentKernel: 'backRecurrentKernel', bias: 'backBias' }
    : { kernel: 'kernel', recurrentKernel: 'recurrentKernel', bias: 'bias' };
}

function checkParams(node: Node): RecurrentParams {
  const p = node.params;
  if (p.cell !== 'simple' && p.cell !== 'lstm' && p.cell !== 'gru') badConfig(node, `unknown recurrent cell ${String(p.cell)}`);
  if (p.direction !== 'forward' && p.direction !== 'backward' && p.direction !== 'bidirectional') badConfig(node, `unknown direction ${String(p.direction)}`);
  if (p.direction === 'bidirectional' && !['concat', 'sum', 'mul', 'ave'].includes(String(p.merge))) badConfig(node, `unknown merge mode ${String(p.merge)}`);
  checkPositiveInts(node, 'units', [p.units], 1);
  if (p.leak !== undefined && (p.cell !== 'simple' || !(p.leak > 0 && p.leak <= 1))) badConfig(node, `leak ${p.leak} (only a simple cell, 0 < leak <= 1)`);
  return p;
}

/** Output width: units, or 2 * units for a bidirectional concat. */
export function recurrentWidth(p: RecurrentParams): number {
  return p.direction === 'bidirectional' && p.merge === 'concat' ? 2 * p.units : p.units;
}

function checkDirectionWeights(node: Node, backward: boolean, features: number): void {
  const p = node.params;
  const g = gateCount(p.cell) * p.units;
  const k = directionKeys(backward);
  expectWeight(node, k.kernel, [features, g]);
  expectWeight(node, k.recurrentKernel, [p.units, g]);
  if (p.useBias) expectWeight(node, k.bias, p.cell === 'gru' && p.resetAfter ? [2, g] : [g]);
}

/** One direction over the steps (already in processing order); returns each step's h in that order. */
function runDirection(tf: TF, node: Node, steps: Tensor[], backward: boolean): Tensor[] {
  const p = node.params;
  const k = directionKeys(backward);
  const u = p.units;
  const kernel = weightTensor(tf, node.weights[k.kernel]) as T2;
  const rec = weightTensor(tf, node.weights[k.recurrentKernel]) as T2;
  const b: WeightTensor | undefined = p.useBias ? node.weights[k.bias] : undefined;
  const split2 = p.cell === 'gru' && p.resetAfter && b;
  const inBias = b ? weightTensor(tf, split2 ? { shape: [b.shape[1]], data: b.data.subarray(0, b.shape[1]) } : b) : null;
  const recBias = split2 ? weightTensor(tf, { shape: [b.shape[1]], data: b.data.subarray(b.shape[1]) }) : null;
  const act = (x: Tensor) => applyActivation(x, p.cellActivation, tf);
  const gate = (x: Tensor) => applyActivation(x, p.recurrentActivation, tf);
  const n = steps[0].shape[0];
  const leak = p.leak ?? 1;
  let h: Tensor = tf.zeros([n, u]);
  let c: Tensor = tf.zeros([n, u]);
  const out: Tensor[] = [];
  // Project every step's input at once: [n * T, features] @ W.
  const xw = tf.matMul(tf.concat(steps, 0) as T2, kernel);
  const xs = tf.split(inBias ? tf.add(xw, inBias) : xw, steps.length, 0);
  // GRU without reset_after: the recurrent kernel's z,r part and its candidate part, split once for all steps.
  const [uzr, uh] = p.cell === 'gru' && !p.resetAfter ? tf.split(rec, [2 * u, u], 1) : [rec, rec];
  for (const x of xs) {
    if (p.cell === 'simple') {
      const next = act(tf.add(x, tf.matMul(h as T2, rec)));
      h = leak === 1 ? next : tf.add(tf.mul(h, 1 - leak), tf.mul(next, leak));
    } else if (p.cell === 'lstm') {
      const [zi, zf, zc, zo] = tf.split(tf.add(x, tf.matMul(h as T2, rec)), 4, 1);
      c = tf.add(tf.mul(gate(zf), c), tf.mul(gate(zi), act(zc)));
      h = tf.mul(gate(zo), act(c));
    } else {
      const [xz, xr, xh] = tf.split(x, 3, 1);
      let z: Tensor;
      let cand: Tensor;
      if (p.resetAfter) {
        let hu: Tensor = tf.matMul(h as T2, rec);
        if (recBias) hu = tf.add(hu, recBias);
        const [hz, hr, hh] = tf.split(hu, 3, 1);
        z = gate(tf.add(xz, hz));
        const r = gate(tf.add(xr, hr));
        cand = act(tf.add(xh, tf.mul(r, hh)));
      } else {
        const [hz, hr] = tf.split(tf.matMul(h as T2, uzr as T2), 2, 1);
        z = gate(tf.add(xz, hz));
        const r = gate(tf.add(xr, hr));
        cand = act(tf.add(xh, tf.matMul(tf.mul(r, h) as T2, uh as T2)));
      }
      h = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), cand));
    }
    out.push(h);
  }
  return out;
}

export const recurrent: KindModule<'Recurrent'> = {
  kind: 'Recurrent',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    const p = checkParams(node);
    const x = inputs[0];
    expectRank(node, x, 3);
    const f = channels(node, x);
    checkDirectionWeights(node, false, f);
    if (p.direction === 'bidirectional') checkDirectionWeights(node, true, f);
    const w = recurrentWidth(p);
    if (x[1] === 0) mismatch(node, `recurrent layer ${node.name} needs at least one time step`);
    return checkSize(node, p.returnSequences ? [x[0], x[1], w] : [x[0], w]);
  },
  forward(node, inputs, tf) {
    const p = node.params;
    const x = inputs[0];
    const T = x.shape[1];
    if (!T) mismatch(node, `recurrent layer ${node.name} needs at least one time step, got an input of shape [${x.shape.join(', ')}]`);
    const steps = tf.unstack(x, 1);
    const reversed = [...steps].reverse();
    const seq = (hs: Tensor[]): Tensor => (p.returnSequences ? tf.stack(hs, 1) : hs[hs.length - 1]);
    if (p.direction === 'forward') return seq(runDirection(tf, node, steps, false));
    if (p.direction === 'backward') {
      const hs = runDirection(tf, node, reversed, false);
      return seq(p.processingOrder || !p.returnSequences ? hs : hs.reverse());
    }
    const fw = seq(runDirection(tf, node, steps, false));
    const bwSteps = runDirection(tf, node, reversed, true);
    // The backward half's sequence is put back in input order; its last output is its state after step 0.
    const bw = p.returnSequences ? tf.stack(bwSteps.reverse(), 1) : bwSteps[bwSteps.length - 1];
    switch (p.merge) {
      case 'concat':
        return tf.concat([fw, bw], -1);
      case 'sum':
        return tf.add(fw, bw);
      case 'mul':
        return tf.mul(fw, bw);
      case 'ave':
        return tf.mul(tf.add(fw, bw), 0.5);
      default:
        return badConfig(node, `unknown merge mode ${String(p.merge)}`);
    }
  },
};
