/** Cropping: remove [before, after] cells from each spatial dim. */
import type { KindModule } from './kind.js';
import type { Shape } from '../graph.js';
import { badConfig, checkPads, checkSize, expectInputs, expectRank } from './common.js';

export const cropping: KindModule<'Cropping'> = {
  kind: 'Cropping',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    const p = node.params;
    if (p.rank !== 1 && p.rank !== 2 && p.rank !== 3) badConfig(node, `cropping rank must be 1, 2 or 3`);
    const crops = checkPads(node, p.crops, p.rank);
    const x = inputs[0];
    expectRank(node, x, p.rank + 2);
    return checkSize(node, [x[0], ...x.slice(1, -1).map((d, i) => (d === null ? null : d - crops[i][0] - crops[i][1])), x[x.length - 1]]);
  },
  forward(node, inputs, tf) {
    const x = inputs[0];
    const crops = node.params.crops;
    const begin = [0, ...crops.map((c) => c[0]), 0];
    const size = [-1, ...crops.map((c, i) => x.shape[i + 1] - c[0] - c[1]), -1];
    return tf.slice(x, begin, size);
  },
};
