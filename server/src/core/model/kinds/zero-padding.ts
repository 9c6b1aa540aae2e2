/** ZeroPadding: zeros around the spatial dims, [before, after] each. */
import type { KindModule } from './kind.js';
import type { Shape } from '../graph.js';
import { badConfig, checkPads, checkSize, expectInputs, expectRank, padSpatial } from './common.js';

export const zeroPadding: KindModule<'ZeroPadding'> = {
  kind: 'ZeroPadding',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    const p = node.params;
    if (p.rank !== 1 && p.rank !== 2 && p.rank !== 3) badConfig(node, `zero padding rank must be 1, 2 or 3`);
    const pads = checkPads(node, p.pads, p.rank);
    const x = inputs[0];
    expectRank(node, x, p.rank + 2);
    return checkSize(node, [x[0], ...x.slice(1, -1).map((d, i) => (d === null ? null : d + pads[i][0] + pads[i][1])), x[x.length - 1]]);
  },
  forward(node, inputs, tf) {
    return padSpatial(tf, inputs[0], node.params.pads);
  },
};
