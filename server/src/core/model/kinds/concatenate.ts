/** Concatenate along an axis of the channels-last tensor (batch included; Keras default -1). */
import type { KindModule } from './kind.js';
import type { Dim, Shape } from '../graph.js';
import { resolveAxis } from '../activations.js';
import { checkSize, fmtShape, mismatch } from './common.js';

export const concatenate: KindModule<'Concatenate'> = {
  kind: 'Concatenate',
  inferShape(node, inputs): Shape {
    if (inputs.length < 1) mismatch(node, `Concatenate layer ${node.name} has no inputs`);
    const rank = inputs[0].length;
    if (inputs.some((s) => s.length !== rank)) mismatch(node, `Concatenate ${node.name}: inputs ${inputs.map(fmtShape).join(', ')} differ in rank`);
    const axis = resolveAxis(node.params.axis ?? -1, rank);
    if (axis === 0) mismatch(node, `Concatenate ${node.name} cannot join along the batch axis`);
    const out: Dim[] = [];
    for (let i = 0; i < rank; i++) {
      if (i === axis) {
        out.push(inputs.some((s) => s[i] === null) ? null : inputs.reduce((a, s) => a + (s[i] as number), 0));
        continue;
      }
      const known = inputs.map((s) => s[i]).filter((d): d is number => d !== null);
      if (known.some((d) => d !== known[0])) mismatch(node, `Concatenate ${node.name}: inputs ${inputs.map(fmtShape).join(', ')} differ off the concat axis`);
      out.push(known.length ? known[0] : null);
    }
    return checkSize(node, out);
  },
  forward(node, inputs, tf) {
    return inputs.length === 1 ? inputs[0] : tf.concat(inputs, resolveAxis(node.params.axis ?? -1, inputs[0].rank));
  },
};
