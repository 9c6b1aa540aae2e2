/** GlobalPool: mean or max over every spatial dim (Keras GlobalAverage/MaxPooling, ONNX GlobalAveragePool). */
import type { KindModule } from './kind.js';
import type { Shape } from '../graph.js';
import { badConfig, checkSize, expectInputs, expectRank } from './common.js';

export const globalPool: KindModule<'GlobalPool'> = {
  kind: 'GlobalPool',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    const p = node.params;
    if (p.op !== 'max' && p.op !== 'avg') badConfig(node, `global pool op must be max or avg, got ${String(p.op)}`);
    if (p.rank !== 1 && p.rank !== 2 && p.rank !== 3) badConfig(node, `global pool rank must be 1, 2 or 3, got ${String(p.rank)}`);
    const x = inputs[0];
    expectRank(node, x, p.rank + 2);
    const c = x[x.length - 1];
    return checkSize(node, p.keepDims ? [x[0], ...x.slice(1, -1).map(() => 1), c] : [x[0], c]);
  },
  forward(node, inputs, tf) {
    const x = inputs[0];
    const axes = Array.from({ length: x.rank - 2 }, (_, i) => i + 1);
    return node.params.op === 'max' ? tf.max(x, axes, node.params.keepDims) : tf.mean(x, axes, node.params.keepDims);
  },
};
