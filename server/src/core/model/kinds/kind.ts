/**
 * What every layer-kind module provides. One module per kind under model/kinds/; `registry.ts` maps
 * each LayerKind to its module. The executor and the LRP engine only go through this interface.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { LayerKind, LayerNodeOf, Shape } from '../graph.js';

export interface KindModule<K extends LayerKind> {
  kind: K;
  /** Output shape (batch first) from the input shapes; throws LensError('SHAPE_MISMATCH' | 'UNSUPPORTED_CONFIG') when they do not fit. Also resolves padding.pads where the node has padding. */
  inferShape(node: LayerNodeOf<K>, inputs: Shape[]): Shape;
  /** The layer's own op on channels-last tensors, without the fused activation (the executor applies that). */
  forward(node: LayerNodeOf<K>, inputs: tfTypes.Tensor[], tf: typeof tfTypes): tfTypes.Tensor;
}
