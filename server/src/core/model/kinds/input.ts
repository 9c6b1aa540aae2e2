/** Input: the graph's entry; its shape comes from the file (shapes.ts sets it), the executor feeds it. */
import type { KindModule } from './kind.js';
import type { Shape } from '../graph.js';
import { LensError } from '../../errors.js';
import { checkSize } from './common.js';

export const input: KindModule<'Input'> = {
  kind: 'Input',
  inferShape(node, inputs): Shape {
    if (inputs.length !== 0) throw new LensError('GRAPH_INVALID', `input ${node.name} has inbound layers`, { layer: node.name });
    if (!Array.isArray(node.outputShape) || node.outputShape.length < 1) {
      throw new LensError('GRAPH_INVALID', `input ${node.name} declares no shape`, { layer: node.name });
    }
    return checkSize(node, [...node.outputShape]);
  },
  forward(_node, inputs) {
    return inputs[0];
  },
};
