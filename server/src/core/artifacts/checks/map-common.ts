/** Shared pieces of the relevance-map checks: the geometry they judge with and the maps they compare. */
import type { ModelGraph } from '../../model/graph.js';
import { isWindowed } from '../geometry.js';
import { cellsPerSample, type MapContext } from '../map-context.js';
import { gridOf, meanAbsShare, type Grid, type Side } from '../map-stats.js';

/** Width of the border band: the first windowed layer's receptive field (its effective kernel), at least 1. */
export function firstLayerBand(graph: ModelGraph): number {
  const first = graph.nodes.find(isWindowed);
  if (!first) return 1;
  const k = first.kind === 'Pool' ? first.params.poolSize : first.params.kernelSize;
  const d = first.kind === 'Pool' ? k.map(() => 1) : first.params.dilation;
  return Math.max(1, ...k.map((ki, i) => (ki - 1) * d[i] + 1));
}

/** The stride period to fold by: the smallest stride > 1 of any windowed layer, 2 when there is none (the control). */
export function stridePeriod(graph: ModelGraph): { period: number; strided: boolean } {
  let p = Infinity;
  for (const n of graph.nodes) if (isWindowed(n)) for (const s of n.params.strides) if (s > 1) p = Math.min(p, s);
  return Number.isFinite(p) ? { period: p, strided: true } : { period: 2, strided: false };
}

export function mapGrid(ctx: MapContext): Grid {
  return gridOf(ctx.shape);
}

/** Mean |R| share per cell of the top-class maps. */
export function cellShares(ctx: MapContext, rel: Float32Array = ctx.relevance, n = ctx.n): Float64Array {
  return meanAbsShare(rel, n, mapGrid(ctx));
}

export function per(ctx: MapContext): number {
  return cellsPerSample(ctx);
}

/** Is the input a grid (two spatial dims, or one for sequences) rather than a feature vector? */
export function isGridInput(ctx: MapContext): boolean {
  return ctx.shape.length >= 2;
}

/** The sides of the map that are borders of the model's input: none along an axis the input wraps (ctx.periodic). */
export function borderSides(ctx: MapContext): Side[] {
  const g = mapGrid(ctx);
  const p = ctx.periodic ?? [];
  // [H, W, C]: axis 0 is rows (top/bottom), axis 1 columns; [L, C]: axis 0 is the one line (left/right).
  const rows = ctx.shape.length >= 3 && g.h > 1 && !p[0];
  const cols = !(ctx.shape.length >= 3 ? p[1] : p[0]);
  return [...(rows ? (['top', 'bottom'] as const) : []), ...(cols ? (['left', 'right'] as const) : [])];
}

/**
 * The input-grid footprint of the first max pooling's window (pool size times the stride product of the
 * windowed layers before it): the block size at which winner-take-all shows in the input map. Undefined
 * when the model has no max pooling.
 */
export function maxPoolBlock(graph: ModelGraph): number | undefined {
  let jump = 1;
  for (const n of graph.nodes) {
    if (!isWindowed(n)) continue;
    if (n.kind === 'Pool' && n.params.op === 'max') return Math.max(...n.params.poolSize) * jump;
    jump *= Math.max(...n.params.strides);
  }
  return undefined;
}

/** The fields every controlled map check puts in its finding's data, so panel, report, SARIF and JSON show the same numbers. */
export function controlData(statistic: number, control: number, controlName: string, effect: number, p?: number): Record<string, number | string> {
  return { statistic, controlStatistic: control, controlName, effectSize: effect, ...(p === undefined ? {} : { pValue: p }) };
}
