/**
 * The sanity variants of an explanation, defined once (the server's comparison views, the panel's test
 * harness and the checks' cascading randomization agree): the randomized model re-initializes every
 * linear layer (Dense, Conv, DepthwiseConv, ConvTranspose: the cascade's last step, same seed); the blank
 * prior explains one all-zero input.
 */
import type { ModelGraph } from '../model/graph.js';
import { isLinear } from '../lrp/linear.js';
import { randomizedTop } from '../artifacts/collect.js';
import type { Batch } from './samples.js';

export type Variant = 'randomized' | 'blank';

/** The seed of the re-initialization (collect.ts's cascading randomization uses the same). */
export const RANDOMIZATION_SEED = 7;

/** The layers the randomized model re-initializes. */
export function randomizedLayers(graph: ModelGraph): string[] {
  return graph.nodes.filter(isLinear).map((n) => n.name);
}

export function randomizedModel(graph: ModelGraph): ModelGraph {
  return randomizedTop(graph, randomizedLayers(graph), RANDOMIZATION_SEED);
}

/** One all-zero sample shaped like the batch's samples. */
export function blankInput(x: Pick<Batch, 'shape' | 'data'>): Batch {
  const per = x.data.length / Math.max(1, x.shape[0]);
  return { shape: [1, ...x.shape.slice(1)], data: new Float32Array(per), dtype: 'f4' };
}
