/**
 * The relevance-map checks of a flatten "valid" model (an MLP on the ocean cells only) on the grid its
 * features come from: each feature back on its cell, every other cell masked with no value and no
 * relevance. The checks then judge maps (and LRP209 the mask) as they would for the full-grid input.
 */
import { scatterFeatures, type ModelInput } from '../data/pipeline.js';
import type { MapContext } from './map-context.js';
import { mapControlMaps } from './map-controls.js';

const CHANNEL_DIMS = new Set(['channel', 'variable']);

export function scatterContext(ctx: MapContext, sc: NonNullable<ModelInput['scatter']>): MapContext {
  const k = sc.indices.length;
  const ch = sc.gridDims.findIndex((d) => CHANNEL_DIMS.has(d));
  // The checks read maps channels-last; a channels-first grid (or a context not on the features) stays as it is.
  if (ctx.x.length !== ctx.n * k || (ch >= 0 && ch !== sc.gridDims.length - 1)) return ctx;
  const shape = ch >= 0 ? sc.gridShape.slice() : [...sc.gridShape, 1];
  const sp = (a: Float32Array, n = ctx.n): Float32Array => scatterFeatures(sc, a, n);
  const perGrid = sc.gridShape.reduce((a, b) => a * b, 1);
  const mask = new Uint8Array(perGrid).fill(1);
  for (const i of sc.indices) mask[i] = 0;
  const out: MapContext = { ...ctx, shape, x: sp(ctx.x), relevance: sp(ctx.relevance), mask };
  if (ctx.runnerUp) out.runnerUp = sp(ctx.runnerUp);
  if (ctx.randomized) out.randomized = ctx.randomized.map((r) => ({ layers: r.layers, relevance: sp(r.relevance) }));
  if (ctx.blank) out.blank = sp(ctx.blank, 1);
  if (ctx.twin) out.twin = { name: ctx.twin.name, relevance: sp(ctx.twin.relevance) };
  if (ctx.controls) out.controls = mapControlMaps(ctx.controls, (r) => sp(r));
  if (ctx.signal) out.signal = Uint8Array.from(sp(Float32Array.from(ctx.signal), 1), (v) => (v ? 1 : 0));
  return out;
}
