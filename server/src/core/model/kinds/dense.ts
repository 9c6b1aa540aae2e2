/** Dense: x @ kernel + bias on the last axis (Keras applies Dense to rank > 2 inputs per position). */
import type { KindModule } from './kind.js';
import type { Shape } from '../graph.js';
import { channels, checkPositiveInts, checkSize, expectInputs, expectWeight, mismatch, weightTensor } from './common.js';

type T2 = import('@tensorflow/tfjs').Tensor2D;

export const dense: KindModule<'Dense'> = {
  kind: 'Dense',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    const p = node.params;
    checkPositiveInts(node, 'units', [p.units], 1);
    const x = inputs[0];
    if (x.length < 2) mismatch(node, `Dense layer ${node.name} needs an input of rank 2 or more`);
    const ci = channels(node, x);
    expectWeight(node, 'kernel', [ci, p.units]);
    if (p.useBias) expectWeight(node, 'bias', [p.units]);
    return checkSize(node, [...x.slice(0, -1), p.units]);
  },
  forward(node, inputs, tf) {
    const x = inputs[0];
    const p = node.params;
    const kernel = weightTensor(tf, node.weights.kernel) as T2;
    const ci = x.shape[x.rank - 1];
    const flat = x.rank === 2 ? (x as T2) : (tf.reshape(x, [-1, ci]) as T2);
    let y: import('@tensorflow/tfjs').Tensor = tf.matMul(flat, kernel);
    if (p.useBias) y = tf.add(y, weightTensor(tf, node.weights.bias));
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), p.units]);
  },
};
