/** Reshape: Keras Reshape target (batch excluded, one -1 allowed), in channels-last order. */
import type { KindModule } from './kind.js';
import type { Shape } from '../graph.js';
import { badConfig, checkSize, expectInputs, fmtShape, mismatch } from './common.js';

export const reshape: KindModule<'Reshape'> = {
  kind: 'Reshape',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    const t = node.params.targetShape;
    if (!Array.isArray(t) || t.some((d) => !Number.isInteger(d) || d < -1 || d === 0) || t.filter((d) => d === -1).length > 1) {
      badConfig(node, `Reshape target ${JSON.stringify(t)} must be positive integers with at most one -1`);
    }
    const x = inputs[0];
    const rest = x.slice(1);
    const known = rest.every((d) => d !== null);
    const total = known ? (rest as number[]).reduce((a, b) => a * b, 1) : null;
    const fixed = t.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    let out: (number | null)[] = [...t];
    if (t.includes(-1)) {
      if (total !== null) {
        if (total % fixed !== 0) mismatch(node, `cannot reshape ${fmtShape(x)} to ${fmtShape([null, ...t])}`);
        out = t.map((d) => (d === -1 ? total / fixed : d));
      } else out = t.map((d) => (d === -1 ? null : d));
    } else if (total !== null && total !== fixed) {
      mismatch(node, `cannot reshape ${fmtShape(x)} (${total} values per sample) to ${fmtShape([null, ...t])}`);
    }
    return checkSize(node, [x[0], ...out]);
  },
  forward(node, inputs, tf) {
    const x = inputs[0];
    return tf.reshape(x, [x.shape[0], ...node.params.targetShape]);
  },
};
