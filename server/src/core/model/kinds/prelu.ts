/** PReLU: x where x >= 0, alpha * x elsewhere, alpha learned per position (1 on shared axes; Keras PReLU, ONNX PRelu). */
import type { KindModule } from './kind.js';
import type { Shape } from '../graph.js';
import { checkWeightShape, expectInputs, weightTensor } from './common.js';
import { LensError } from '../../errors.js';

export const prelu: KindModule<'PReLU'> = {
  kind: 'PReLU',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    const x = inputs[0];
    const a = node.weights.alpha;
    if (!a) throw new LensError('MISSING_WEIGHTS', `layer ${node.name} has no 'alpha' weight`, { layer: node.name });
    // alpha broadcasts against one sample: same rank, each axis 1 or the input's size.
    const want = x.slice(1).map((d, i) => (a.shape[i] === 1 ? 1 : d));
    checkWeightShape(node, 'alpha', a, want);
    return [...x];
  },
  forward(node, inputs, tf) {
    const x = inputs[0];
    const alpha = weightTensor(tf, node.weights.alpha);
    return tf.add(tf.relu(x), tf.mul(alpha, tf.neg(tf.relu(tf.neg(x)))));
  },
};
