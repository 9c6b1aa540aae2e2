/**
 * Layout: the order of the per-sample axes (`layout`, or the data's dims with the channel last, or first
 * for channels-first models), the periodic longitude wrap, whether the sample is flattened or turned into
 * a sequence, and so the shape of x, checked against the model's input (SHAPE_MISMATCH otherwise).
 * Everything here comes from sizes alone, so a dry run sees the same errors as a full build.
 */
import type { Shape } from '../../model/graph.js';
import { KeyedError } from '../keyed.js';
import type { ModelEntry } from '../project.js';
import { suggest } from '../similar.js';
import { product } from '../source.js';
import type { SampleAxes } from './axes.js';
import { P } from './entry.js';
import { planSequence, type SequenceLayout } from './sequence.js';

export interface LayoutPlan {
  /** Per-sample axis order (the stacked variables are axes.CH). */
  layout: string[];
  flatten: boolean;
  flattenValid: boolean;
  /** Cells added on each side of the longitude axis. */
  wrap: number;
  lonDim?: string;
  /** The layout's axes without the channel ones, and their sizes (wrap included). */
  spatial: string[];
  spatialShape: number[];
  /** The per-sample shape over `layout` (wrap included). */
  sampleShape: number[];
  /** x's shape, batch first (flatten "valid": a guess until the mask is read). */
  xShape: number[];
  /** Names of x's axes. */
  outDims: string[];
  /** Sequence mode: how the per-sample grid becomes (time, features). */
  sequence?: SequenceLayout;
}

export function planLayout(e: ModelEntry, axes: SampleAxes, modelInputShape: Shape | undefined, fileLayout: string | undefined): LayoutPlan {
  const { per, perShape, C, CH, nSamples, sampleDim, coords } = axes;
  let flatten = Boolean(e.input.flatten);
  const flattenValid = e.input.flatten === 'valid';
  if (flattenValid && !e.mask) throw new KeyedError('CONFIG_ERROR', `'flatten': "valid" keeps the cells where the mask is 1; give "mask" ("missing" or a mask variable)`, P(e, 'input', 'flatten'));
  if (e.input.sequence && e.input.flatten) {
    throw new KeyedError('CONFIG_ERROR', `'flatten' and 'sequence' exclude each other: a sequence keeps the time axis and flattens the rest of each step`, P(e, 'input', 'flatten'));
  }
  let layout: string[];
  if (e.input.layout) layout = givenLayout(e, axes);
  else if (e.input.sequence) layout = [...per, ...(C > 1 ? [CH] : [])];
  else {
    const rank = modelInputShape?.length;
    const withChannel = rank === undefined || flatten || C > 1 || rank !== per.length + 1;
    if (rank === 2 && per.length + (withChannel ? 1 : 0) > 1) flatten = true;
    layout = withChannel ? [...per, CH] : per.slice();
    // Channels-first models (ONNX from PyTorch): the channel axis goes first.
    const nch = withChannel ? C : per.includes('channel') ? perShape[per.indexOf('channel')] : undefined;
    const channelsFirst = fileLayout
      ? /^NC/.test(fileLayout)
      : nch !== undefined && rank !== undefined && rank > 2 && modelInputShape![1] === nch && modelInputShape![rank - 1] !== nch;
    if (withChannel && channelsFirst && !flatten) layout = [CH, ...per];
    // An image's own channel dim goes first for channels-first models too.
    if (!withChannel && channelsFirst && !flatten && per.includes('channel')) layout = ['channel', ...per.filter((d) => d !== 'channel')];
  }

  // Wrap: which per-sample axis is longitude.
  const wrap = e.input.wrapLon ?? 0;
  const lonDim = coords.lon?.dim;
  if (wrap > 0 && (lonDim === undefined || !per.includes(lonDim))) {
    throw new KeyedError('CONFIG_ERROR', `'wrapLon' needs a longitude dim among ${per.join(', ')}; name it with "coords": {"lon": "DIM"}`, P(e, 'input', 'wrapLon'));
  }
  if (wrap > 0 && wrap > perShape[per.indexOf(lonDim!)]) {
    throw new KeyedError('CONFIG_ERROR', `'wrapLon' ${wrap} is more than the ${perShape[per.indexOf(lonDim!)]} longitudes`, P(e, 'input', 'wrapLon'));
  }
  const sizeOf = (d: string): number => (d === CH ? C : perShape[per.indexOf(d)] + (d === lonDim ? 2 * wrap : 0));
  const spatial = layout.filter((d) => d !== CH && d !== 'channel');
  const spatialShape = spatial.map(sizeOf);
  const sampleShape = layout.map(sizeOf);
  const sequence = e.input.sequence ? planSequence(e, axes, layout, sampleShape) : undefined;
  // flatten "valid": the feature count is known once the mask is read; until then, the model's (a dry run) or all cells.
  const validGuess = typeof modelInputShape?.[1] === 'number' ? modelInputShape[1] : product(sampleShape);
  const xShape = sequence
    ? [nSamples, ...sequence.shape]
    : flatten ? [nSamples, flattenValid ? validGuess : product(sampleShape)] : [nSamples, ...sampleShape];
  const outDims = [sampleDim ?? 'batch', ...(sequence ? [sequence.timeDim, 'features'] : flatten ? ['features'] : layout)];
  return { layout, flatten, flattenValid, wrap, lonDim, spatial, spatialShape, sampleShape, xShape, outDims, sequence };
}

/** `input.layout` with lrp-lens.json's dim names resolved; it must name each per-sample dim once. */
function givenLayout(e: ModelEntry, axes: SampleAxes): string[] {
  const { per, C, CH } = axes;
  const layout = (e.input.layout as string[]).map(axes.alias);
  const want = [...per, ...(C > 1 || layout.includes(CH) ? [CH] : [])];
  const missing = want.filter((d) => !layout.includes(d));
  const extra = layout.filter((d) => !want.includes(d));
  if (missing.length || extra.length || layout.length !== new Set(layout).size) {
    throw new KeyedError('SHAPE_MISMATCH', `'layout' must name each per-sample dim once: ${want.join(', ')}${extra.length ? `; unknown: ${extra.join(', ')}.${suggest(extra[0], want, 'dims')}` : ''}${missing.length ? `; missing: ${missing.join(', ')}` : ''}`, P(e, 'input', 'layout'));
  }
  return layout;
}

const fmt = (s: (number | null)[]): string => `[${s.map((d) => (d === null ? 'N' : d)).join(', ')}]`;

/** x's shape against the model's input (batch axis not compared); the error says what to set. */
export function checkModelShape(e: ModelEntry, plan: LayoutPlan, modelInputShape: Shape | undefined): void {
  if (!modelInputShape) return;
  const { xShape, flatten, layout, lonDim, wrap, sequence } = plan;
  const ok = modelInputShape.length === xShape.length && modelInputShape.every((d, i) => i === 0 || d === null || d === xShape[i]);
  // (flatten "valid" always passes here when the ranks match; its count is checked after the mask.)
  if (ok) return;
  if (sequence) {
    throw new KeyedError('SHAPE_MISMATCH', `the data give the sequence ${fmt(xShape)} (sample, ${sequence.timeDim} as time, features: ${sequence.featureDims.join(' x ') || 'one'}) but the model expects ${fmt(modelInputShape)}.${sequenceHint(plan, modelInputShape)}`, P(e, 'input', 'sequence'));
  }
  let hint = '';
  if (modelInputShape.length === xShape.length && lonDim) {
    const li = (flatten ? -1 : 1) + layout.indexOf(lonDim);
    const want = modelInputShape[li];
    const diff = typeof want === 'number' ? want - xShape[li] : 0;
    if (li > 0 && diff > 0 && diff % 2 === 0) hint = ` Set "wrapLon": ${wrap + diff / 2} to extend the longitudes periodically.`;
  }
  if (!hint && modelInputShape.length !== xShape.length) hint = ` The data give ${xShape.length - 1} axes per sample (${flatten ? 'flattened' : layout.join(', ')}), the model takes ${modelInputShape.length - 1}; set "layout" or "flatten".`;
  throw new KeyedError('SHAPE_MISMATCH', `the data give input shape ${fmt(xShape)} (${['sample', ...(flatten ? ['features'] : layout)].join(', ')}) but the model expects ${fmt(modelInputShape)}.${hint}`, P(e, e.input.layout || e.input.wrapLon !== undefined ? 'input' : 'data'));
}

function sequenceHint(plan: LayoutPlan, model: Shape): string {
  const seq = plan.sequence!;
  if (model.length !== 3) return ` A sequence input is (sample, time, features); the model takes ${model.length - 1} axes per sample.`;
  const [, T, F] = model;
  if (typeof F === 'number' && F !== seq.shape[1]) {
    // Another dim as time may give the model's feature count.
    const other = seq.gridDims.filter((d) => d !== seq.timeDim && typeof T === 'number' && seq.gridShape[seq.gridDims.indexOf(d)] === T && product(seq.gridShape) / T === F);
    if (other.length) return ` Set "sequence": {"time": "${other[0]}"}.`;
  }
  return '';
}
