/**
 * Flatten to [batch, features]. channelsFirst flattens in (C, spatial...) order: our tensor is
 * channels-last, so a PyTorch/ONNX flatten must move channels to the front first to keep the following
 * Dense weights' order.
 */
import type { KindModule } from './kind.js';
import type { Shape } from '../graph.js';
import { checkSize, expectInputs, mismatch } from './common.js';

export const flatten: KindModule<'Flatten'> = {
  kind: 'Flatten',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    const x = inputs[0];
    if (x.length < 2) mismatch(node, `Flatten layer ${node.name} needs a batch dimension`);
    const rest = x.slice(1);
    const n = rest.some((d) => d === null) ? null : (rest as number[]).reduce((a, b) => a * b, 1);
    return checkSize(node, [x[0], n]);
  },
  forward(node, inputs, tf) {
    let x = inputs[0];
    if (x.rank === 2) return x;
    if (node.params.channelsFirst && x.rank > 2) {
      const perm = [0, x.rank - 1, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 1)];
      x = tf.transpose(x, perm);
    }
    return tf.reshape(x, [x.shape[0], -1]);
  },
};
