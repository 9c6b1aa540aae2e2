/**
 * From a project entry (lrp-lens.json, format in project.ts and docs/lrp-lens-json.md) to the model's
 * input. `buildModelInput` composes the steps, each in its module under pipeline/:
 *   1. read (read.ts): each variable of `data` with its selection (all must have the same dims and shape);
 *   2. select (axes.ts): coordinates, and the sample dim: `input.sampleDim`, else the time dim, else (when
 *      that fits the model) the first dim;
 *   3. layout (layout.ts): the per-sample axis order, wrap, flatten or sequence, so x's shape, checked
 *      against the model's input (SHAPE_MISMATCH otherwise), from sizes alone;
 *   4. labels (labels.ts): given values, an integer variable, or an index thresholded into classes,
 *      matched to the samples by month when both have dates;
 *   5. coarsen (coarsen.ts): block means of k x k lat/lon cells where `coarsen` asks (the sizes were
 *      planned in step 2); standardize (standardize.ts) each variable: (v - mean) / std, or an anomaly
 *      against a climatology; then cap the values to `clip`;
 *   6. mask and fill (mask.ts): "missing" = cells with a value in every sample and channel, or a mask
 *      variable; then missing cells (NaN) become `fillValue` (default 0);
 *   7. assemble (assemble.ts): stack the variables as channels, extend a periodic longitude by `wrapLon`
 *      cells on each side, order the axes as the layout (the sample dim becomes the batch axis, a batch of
 *      1 when there is none), then flatten ("valid": only the cells where the mask is 1, with `scatter` to
 *      put a feature vector back on the grid) or make each sample a sequence (sequence.ts, with
 *      `sequenceToGrid` to put a sequence back on the grid).
 * Steps 1 to 4 need headers only: a dry run stops there. Errors are KeyedErrors carrying the key of
 * lrp-lens.json they come from.
 */
import type { Shape } from '../model/graph.js';
import type { FieldCoords } from './field.js';
import type { NdArray } from '../array.js';
import type { ModelEntry } from './project.js';
import { product } from './source.js';
import { keepValid, orderAsLayout, samplesFirst, spatialMask, stackChannels, toSequence, wrapLongitude } from './pipeline/assemble.js';
import { resolveAxes } from './pipeline/axes.js';
import { buildLabels } from './pipeline/labels.js';
import { checkModelShape, planLayout } from './pipeline/layout.js';
import { fillMissing, gridMask, planMask } from './pipeline/mask.js';
import { loadVariables } from './pipeline/read.js';
import type { SequenceGrid } from './pipeline/sequence.js';
import { coarsenField } from './pipeline/coarsen.js';
import { clipValues, standardize } from './pipeline/standardize.js';

export { transpose, wrapAxis } from './pipeline/arrays.js';
export type { SequenceGrid } from './pipeline/sequence.js';

export interface ModelInput {
  /** Float32, the model's layout, batch first. */
  x: NdArray & { data: Float32Array };
  /** Names of x's axes: the sample dim (or 'batch'), then the layout ('channel' for the variables), or 'features' (flatten), or the time dim and 'features' (sequence). */
  dims: string[];
  /** Class index per sample. */
  labels?: Int32Array;
  /** The values that were thresholded into `labels` (the index), per sample. */
  labelValues?: Float64Array;
  classNames?: string[];
  /** 1 = valid cell; over x's spatial axes (x's dims without batch and channel), wrapped like x. */
  mask?: { data: Uint8Array; shape: number[]; dims: string[] };
  /** Coordinates after selection; lon extended by the wrap. */
  coords: FieldCoords;
  /** Date of each sample where the sample dim is a decoded time axis. */
  times?: string[];
  /** The variables' `units` attribute where they have one and agree (before any standardization). */
  units?: string;
  wrapLon: number;
  explain?: ModelEntry['explain'];
  /**
   * flatten "valid": feature j of a sample is value indices[j] (C order) of the unflattened per-sample
   * array of shape gridShape over gridDims (the layout, wrap included); every other value is masked.
   */
  scatter?: { gridShape: number[]; gridDims: string[]; indices: Int32Array };
  /**
   * sequence mode: x is (sample, time, features); sample s's grid over gridDims (shape gridShape, the
   * layout, wrap included) was read along timeDim (from its end when reverse), the other dims flattened in
   * order into the features. `sequenceToGrid` maps a (n, T, F) array back onto the grid.
   */
  sequence?: SequenceGrid;
}

export interface BuildOptions {
  /** The model's input layout where the loader knows it (channels first or last). */
  fileLayout?: string;
  /** Plan only: check everything from headers, read no values (x.data is empty). */
  dryRun?: boolean;
}


/** Build the model input for one project entry. `modelInputShape` is the model's graph.inputs[0].fileShape. */
export async function buildModelInput(entry: ModelEntry, modelInputShape?: Shape, opts: BuildOptions = {}): Promise<ModelInput> {
  const e = entry;
  const dry = opts.dryRun ?? false;
  const loaded = await loadVariables(e, dry);
  const axes = resolveAxes(e, loaded, modelInputShape);
  const plan = planLayout(e, axes, modelInputShape, opts.fileLayout);
  checkModelShape(e, plan, modelInputShape);
  // Labels and mask checks need sizes only; do them before reading values so a dry run sees them.
  const labelOut = e.labels ? await buildLabels(e, e.labels, axes.nSamples, axes.times, dry) : undefined;
  const units = [...new Set(loaded.plans.map((p) => p.info.attrs.units))];
  const common = {
    dims: plan.outDims, ...labelOut, classNames: e.classNames, times: axes.times, wrapLon: plan.wrap, explain: e.explain,
    ...(units.length === 1 && typeof units[0] === 'string' && units[0].trim() ? { units: units[0].trim() } : {}),
  };
  const sequence: SequenceGrid | undefined = plan.sequence && { timeDim: plan.sequence.timeDim, reverse: plan.sequence.reverse, gridDims: plan.sequence.gridDims, gridShape: plan.sequence.gridShape };
  if (dry) {
    // A mask variable is checked against the grid from its header.
    if (e.mask !== undefined && e.mask !== 'missing') await planMask(e, axes.per, axes.perShape);
    return {
      ...common,
      x: { shape: plan.xShape, data: new Float32Array(0), dtype: 'f4' },
      mask: e.mask !== undefined ? { data: new Uint8Array(0), shape: plan.spatialShape, dims: plan.spatial } : undefined,
      coords: axes.coords,
      ...(sequence ? { sequence } : {}),
    };
  }

  const cs = axes.coarsen;
  const fields = cs ? loaded.fields.map((f) => coarsenField(f, cs)) : loaded.fields;
  const chans = samplesFirst(fields, axes.sAxis);
  await standardize(e, chans, axes, loaded.names);
  if (e.input.clip) clipValues(chans, e.input.clip);
  const maskPer = await gridMask(e, chans, axes);
  const fill = e.input.fillValue ?? 0;
  fillMissing(chans, fill);
  const wrapped = wrapLongitude(stackChannels(chans, axes), spatialMask(maskPer, axes, plan), axes.coords, axes, plan);
  const ordered = orderAsLayout(wrapped.stacked, wrapped.mask, axes, plan);
  const xShape = plan.xShape.slice();
  let xData = ordered.data;
  let scatter: ModelInput['scatter'];
  if (plan.flattenValid) {
    const kept = keepValid(e, ordered.data, ordered.mask!.data, plan, axes.nSamples, modelInputShape);
    xData = kept.data;
    scatter = kept.scatter;
    xShape[1] = scatter.indices.length;
  } else if (plan.sequence) {
    xData = toSequence(ordered.data, ordered.mask?.data, fill, plan, axes.nSamples);
  }
  return {
    ...common,
    x: { shape: xShape, data: xData, dtype: 'f4' },
    mask: ordered.mask,
    coords: wrapped.coords,
    scatter,
    ...(sequence ? { sequence } : {}),
  };
}

/** A batch of n feature vectors of a flatten "valid" input back on its per-sample grid (n x product(gridShape)); masked values 0. */
export function scatterFeatures(sc: NonNullable<ModelInput['scatter']>, src: ArrayLike<number>, n: number, fill = 0): Float32Array {
  const per = product(sc.gridShape);
  const k = sc.indices.length;
  const out = new Float32Array(n * per);
  if (fill !== 0) out.fill(fill);
  for (let s = 0; s < n; s++) for (let j = 0; j < k; j++) out[s * per + sc.indices[j]] = src[s * k + j];
  return out;
}

/** n sequences (n x T x F: a recurrent model's input or relevance) back on the per-sample grid: the inverse of sequence mode. */
export { sequenceToGrid } from './pipeline/sequence.js';
