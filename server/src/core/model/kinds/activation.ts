/** Activation: a standalone activation layer (Keras Activation/ReLU/Softmax..., ONNX Relu, Softmax...). */
import type { KindModule } from './kind.js';
import type { Shape } from '../graph.js';
import { applyActivation, resolveAxis } from '../activations.js';
import { LensError } from '../../errors.js';
import { expectInputs } from './common.js';

export const activation: KindModule<'Activation'> = {
  kind: 'Activation',
  inferShape(node, inputs): Shape {
    expectInputs(node, inputs, 1);
    const a = node.params.activation;
    if (!a || typeof a.name !== 'string') throw new LensError('UNSUPPORTED_CONFIG', `activation layer ${node.name} names no activation`, { layer: node.name });
    if (a.name === 'softmax' || a.name === 'log_softmax') resolveAxis(a.axis ?? -1, inputs[0].length);
    return [...inputs[0]];
  },
  forward(node, inputs, tf) {
    return applyActivation(inputs[0], node.params.activation, tf);
  },
};
