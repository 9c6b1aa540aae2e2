/** Identity: Dropout, GaussianNoise and the like, which do nothing at inference. */
import type { KindModule } from './kind.js';
import type { Shape } from '../graph.js';
import { expectInputs } from './common.js';

export const identity: KindModule<'Identity'> = {
  kind: 'Identity',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    return [...inputs[0]];
  },
  forward(_node, inputs) {
    return inputs[0];
  },
};
