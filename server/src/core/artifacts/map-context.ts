/**
 * Everything the relevance-map checks read, as plain arrays: the maps come from the LRP engine, the
 * controls from the same engine on changed models or inputs (see collect.ts). The checks themselves
 * only compute statistics, so they run on any maps (also hand-made ones in tests).
 */
import type { ModelGraph } from '../model/graph.js';
import type { RuleFamily } from '../names.js';
import type { ControlMaps } from './map-controls.js';
import type { LayerLoss } from './expected-loss.js';

export interface MapContext {
  graph: ModelGraph;
  /** Composite the maps were made with (by name). */
  composite: string;
  /** Rule family per node as the engine applied it (node name -> 'epsilon', 'zplus', 'flat', 'gamma', 'zbox', ...). */
  rules?: Record<string, RuleFamily>;
  /** Input shape without the batch dim, channels-last: [H, W, C], [L, C] or [F]. */
  shape: number[];
  /** Number of samples. */
  n: number;
  /** Inputs, n x prod(shape). */
  x: Float32Array;
  /** Relevance for the explained (top) class, n x prod(shape). */
  relevance: Float32Array;
  /** Relevance put at the output per sample (1 for one-hot, the output for 'output' init). */
  initial: number[];
  /** Relevance for the runner-up class (LRP206). */
  runnerUp?: Float32Array;
  /** Conservation report: per-layer relevance sums per sample, input side of each layer, output first. */
  layerSums?: { name: string; index: number; sums: number[] }[];
  /** Per backward step: relevance lost, and what the rule loses by design computed from the forward pass (LRP201, expected-loss.ts). */
  layerLoss?: LayerLoss[];
  /** Cascading randomization (LRP207): maps of the same samples with the top k linear layers re-initialized. */
  randomized?: { layers: string[]; relevance: Float32Array }[];
  /** Control maps of the map checks on the same samples (geometry, pooling twin, randomized classes, gradient x input): map-controls.ts. */
  controls?: ControlMaps;
  /** Relevance of a blank input (zeros or the data mean), prod(shape) (LRP208). */
  blank?: Float32Array;
  /** Control maps on the same samples from a model that differs only in geometry (valid/wrapped twin) (LRP202). */
  twin?: { name: string; relevance: Float32Array };
  /**
   * Spatial axes of `shape` that the model sees as periodic (a longitude the pipeline wraps): they have no
   * border, so LRP202 does not judge their sides. Index 0 is the first spatial axis (rows of [H, W, C]).
   */
  periodic?: boolean[];
  /** 1 where the input cell is masked, missing or filled (prod(shape)) (LRP209). */
  mask?: Uint8Array;
  /** Cells of the known signal region (benchmark) for the fact share of the summary. */
  signal?: Uint8Array;
  /**
   * Order-dependence control (LRP216) for the [T, F] inputs of recurrent models: maps of the same samples
   * with the time axis reversed, put back in the original step order, and each sample's predicted class
   * before and after the reversal; `labels`: each sample's true class where the data have labels (-1
   * where one is unknown), so accuracy is compared too.
   */
  reversedTime?: { relevance: Float32Array; predicted: number[]; predictedReversed: number[]; labels?: number[] };
  /** How the project turned a field into the sequence (lrp-lens.json `input.sequence`): the dim that is time. */
  sequence?: { time: string; reverse?: boolean };
  /** Where relevance first became non-finite in the backward pass (LRP211), if the engine says. */
  firstNonFinite?: { name: string; index: number };
}

export function cellsPerSample(ctx: Pick<MapContext, 'shape'>): number {
  return ctx.shape.reduce((a, b) => a * b, 1);
}
