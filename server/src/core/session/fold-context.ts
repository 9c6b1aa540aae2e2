/**
 * The relevance-map checks on the data's grid rather than on a periodically wrapped model input. The
 * first and last `wrapLon` longitudes of a wrapped input are copies of real cells: a border band judged
 * on them measures duplicates, and the map the user reads adds each copy's relevance to its cell. So for
 * a wrapped input every map of the context (data, controls, mask) is folded back before the checks run.
 * Checks that reason from the model's geometry (band width, stride period) keep it: a wrap that is a
 * multiple of the stride keeps the phases, and the pipeline's wraps here are (4 cells, stride 2). The
 * wrapped axis is marked periodic: it has no border. Every per-sample map is folded, the controls'
 * included (geometry, pooling twin, randomized classes, gradient x input, first-layer rule twins): a
 * check reads a control at the folded map's offsets, so an unfolded one would be read out of step.
 */
import type { MapContext } from '../artifacts/map-context.js';
import { mapControlMaps } from '../artifacts/map-controls.js';
import { foldWrap, type DisplayGrid } from './data-grid.js';

export function foldContext(ctx: MapContext, g: DisplayGrid): MapContext {
  if (g.wrapLon === 0 || ctx.shape.length !== 3) return ctx;
  const C = ctx.shape[2];
  const lonAxis = g.inputDims.indexOf('lon');
  const shape = ctx.shape.slice();
  shape[lonAxis] = g.w;
  const rel = (r: Float32Array, n = ctx.n) => foldWrap(g, r, n, C, true);
  const out: MapContext = {
    ...ctx,
    shape,
    x: foldWrap(g, ctx.x, ctx.n, C, false),
    relevance: rel(ctx.relevance),
    // Longitude wraps: the folded map has no left/right border for LRP202 to judge.
    periodic: [0, 1].map((a) => a === lonAxis),
  };
  if (ctx.runnerUp) out.runnerUp = rel(ctx.runnerUp);
  if (ctx.randomized) out.randomized = ctx.randomized.map((r) => ({ layers: r.layers, relevance: rel(r.relevance) }));
  if (ctx.blank) out.blank = rel(ctx.blank, 1);
  if (ctx.twin) out.twin = { name: ctx.twin.name, relevance: rel(ctx.twin.relevance) };
  if (ctx.controls) out.controls = mapControlMaps(ctx.controls, (r) => rel(r));
  if (ctx.mask) out.mask = Uint8Array.from(foldWrap(g, ctx.mask, 1, C, false), (v) => (v ? 1 : 0));
  if (ctx.signal) out.signal = Uint8Array.from(foldWrap(g, ctx.signal, 1, C, false), (v) => (v ? 1 : 0));
  return out;
}

