/** A tfjs-layers model's weights by layer, with Keras's short names, for the Keras HDF5 copy of a sample. */
import type * as tf from '@tensorflow/tfjs';
import type { LayerWeights } from '../../server/src/core/model/writers/keras-h5-writer.js';

export function kerasWeights(model: tf.LayersModel): { weights: LayerWeights; layerNames: string[] } {
  const weights: LayerWeights = {};
  for (const layer of model.layers) {
    const values = layer.getWeights();
    weights[layer.name] = layer.weights.map((w, i) => ({
      name: w.originalName.split('/').pop() as string,
      shape: w.shape as number[],
      data: values[i].dataSync() as Float32Array,
    }));
  }
  return { weights, layerNames: model.layers.map((l) => l.name) };
}
