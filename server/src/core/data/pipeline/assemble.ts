/**
 * From per-channel values to x: stack the channels last, extend a periodic longitude by `wrapLon` cells
 * on each side (copied from the other end), order the axes as the layout, then, where asked, flatten to
 * the mask's valid cells or turn each sample into a sequence.
 */
import type { FieldCoords, Field } from '../field.js';
import { KeyedError } from '../keyed.js';
import type { ModelEntry } from '../project.js';
import { product } from '../source.js';
import type { Shape } from '../../model/graph.js';
import { foldMask, transpose, validIndices, wrapAxis } from './arrays.js';
import type { SampleAxes } from './axes.js';
import { P } from './entry.js';
import type { LayoutPlan } from './layout.js';
import { gridToSequence } from './sequence.js';

/** Each variable's values as [sample, ...per] (a copy, so later steps may change it in place). */
export function samplesFirst(fields: Field[], sAxis: number): Float32Array[] {
  return fields.map((f) => {
    const perm = sAxis < 0 ? f.dims.map((_, i) => i) : [sAxis, ...f.dims.map((_, i) => i).filter((i) => i !== sAxis)];
    return transpose(f.values, f.shape, perm).data.slice();
  });
}

/** The values as [sample, ...per, channel]. */
export function stackChannels(chans: Float32Array[], axes: SampleAxes): { data: Float32Array; shape: number[] } {
  const { nSamples, cells, C, perShape } = axes;
  const data = new Float32Array(nSamples * cells * C);
  for (let c = 0; c < C; c++) {
    const v = chans[c];
    for (let i = 0; i < nSamples * cells; i++) data[i * C + c] = v[i];
  }
  return { data, shape: [nSamples, ...perShape, C] };
}

/** A mask over the per-sample grid, reduced to its spatial dims (valid where valid in all the others). */
export interface SpatialMask {
  data: Uint8Array;
  shape: number[];
  /** Its dims, in per order. */
  dims: string[];
}

/** Non-spatial per-sample dims (an image's channel) fold into the mask: valid where valid in all of them. */
export function spatialMask(maskPer: Uint8Array | undefined, axes: SampleAxes, plan: LayoutPlan): SpatialMask | undefined {
  if (!maskPer) return undefined;
  const { per, perShape } = axes;
  const dims = per.filter((d) => plan.spatial.includes(d));
  const data = dims.length < per.length ? foldMask(maskPer, perShape, per.map((d) => dims.includes(d))) : maskPer;
  return { data, shape: perShape.filter((_, i) => dims.includes(per[i])), dims };
}

/** Extend the longitude axis of the stacked values, the mask and the lon coordinate periodically. */
export function wrapLongitude(
  stacked: { data: Float32Array; shape: number[] },
  mask: SpatialMask | undefined,
  coords: FieldCoords,
  axes: SampleAxes,
  plan: LayoutPlan,
): { stacked: { data: Float32Array; shape: number[] }; mask: SpatialMask | undefined; coords: FieldCoords } {
  const { wrap, lonDim } = plan;
  if (wrap === 0) return { stacked, mask, coords };
  const ax = axes.per.indexOf(lonDim!);
  const out = wrapAxis(stacked.data, stacked.shape, ax + 1, wrap);
  let m = mask;
  if (mask) {
    const w = wrapAxis(mask.data, mask.shape, mask.dims.indexOf(lonDim!), wrap);
    m = { ...mask, data: w.data, shape: w.shape };
  }
  const lon = coords.lon!;
  let c = coords;
  if (lon.values.length === axes.perShape[ax]) {
    const n = lon.values.length;
    const period = n > 1 ? Math.abs(lon.values[1] - lon.values[0]) * n : 360;
    const ext = new Float64Array(n + 2 * wrap);
    for (let j = 0; j < ext.length; j++) {
      const k = j - wrap;
      ext[j] = lon.values[((k % n) + n) % n] + Math.floor(k / n) * period;
    }
    c = { ...coords, lon: { ...lon, values: ext } };
  }
  return { stacked: out, mask: m, coords: c };
}

/** The stacked values ([sample, ...per, channel]) in the layout's order, and the mask over the layout's spatial axes. */
export function orderAsLayout(
  stacked: { data: Float32Array; shape: number[] },
  mask: SpatialMask | undefined,
  axes: SampleAxes,
  plan: LayoutPlan,
): { data: Float32Array; mask?: { data: Uint8Array; shape: number[]; dims: string[] } } {
  const { per, CH } = axes;
  const { layout, spatial } = plan;
  const srcAxis = (d: string): number => (d === CH ? per.length + 1 : per.indexOf(d) + 1);
  // A single variable without a channel axis in the layout: its size-1 axis goes last (no data move).
  const t = transpose(stacked.data, stacked.shape, [0, ...layout.map(srcAxis), ...(layout.includes(CH) ? [] : [per.length + 1])]);
  if (!mask) return { data: t.data };
  const mt = transpose(Float32Array.from(mask.data), mask.shape, spatial.map((d) => mask.dims.indexOf(d)));
  return { data: t.data, mask: { data: Uint8Array.from(mt.data), shape: mt.shape, dims: spatial } };
}

/** flatten "valid": only the values whose cell the mask keeps, with the indices to scatter them back. */
export function keepValid(
  e: ModelEntry,
  data: Float32Array,
  mask: Uint8Array,
  plan: LayoutPlan,
  nSamples: number,
  modelInputShape: Shape | undefined,
): { data: Float32Array; scatter: { gridShape: number[]; gridDims: string[]; indices: Int32Array } } {
  const { layout, sampleShape, spatial } = plan;
  const scatter = { gridShape: sampleShape, gridDims: layout, indices: validIndices(layout, sampleShape, spatial, mask) };
  const idx = scatter.indices;
  const per = product(sampleShape);
  const out = new Float32Array(nSamples * idx.length);
  for (let s = 0; s < nSamples; s++) for (let j = 0; j < idx.length; j++) out[s * idx.length + j] = data[s * per + idx[j]];
  const want = modelInputShape?.[1];
  if (typeof want === 'number' && want !== idx.length) {
    throw new KeyedError('SHAPE_MISMATCH', `the data give ${idx.length} valid values per sample (flatten "valid": the cells where the mask is 1) but the model expects ${want} features`, P(e, 'mask'));
  }
  return { data: out, scatter };
}

/** Sequence mode: masked cells take the fill value (as missing ones did), then each sample becomes (time, features). */
export function toSequence(data: Float32Array, mask: Uint8Array | undefined, fill: number, plan: LayoutPlan, nSamples: number): Float32Array {
  const seq = plan.sequence!;
  if (mask) {
    const keep = new Uint8Array(product(plan.sampleShape));
    for (const i of validIndices(plan.layout, plan.sampleShape, plan.spatial, mask)) keep[i] = 1;
    for (let s = 0; s < nSamples; s++) for (let i = 0; i < keep.length; i++) if (!keep[i]) data[s * keep.length + i] = fill;
  }
  return gridToSequence(seq, data, nSamples);
}
