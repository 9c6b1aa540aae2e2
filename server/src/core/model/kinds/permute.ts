/** Permute: Keras Permute dims (1-based, batch fixed in place). */
import type { KindModule } from './kind.js';
import type { Shape } from '../graph.js';
import { badConfig, checkSize, expectInputs, mismatch } from './common.js';

export const permute: KindModule<'Permute'> = {
  kind: 'Permute',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    const dims = node.params.dims;
    const x = inputs[0];
    if (!Array.isArray(dims) || [...dims].sort((a, b) => a - b).some((d, i) => d !== i + 1)) {
      badConfig(node, `Permute dims ${JSON.stringify(dims)} must be a permutation of 1..n`);
    }
    if (dims.length !== x.length - 1) mismatch(node, `Permute dims ${JSON.stringify(dims)} do not fit a rank-${x.length} input`);
    return checkSize(node, [x[0], ...dims.map((d) => x[d])]);
  },
  forward(node, inputs, tf) {
    return tf.transpose(inputs[0], [0, ...node.params.dims]);
  },
};
